/** Rejected input; `field` names what was wrong so a client can show it beside the right box. */
export class ValidationError extends Error {
  override name = 'ValidationError';

  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

export class PayloadTooLargeError extends Error {
  override name = 'PayloadTooLargeError';
}

/** The database failed or could not be reached: the request may succeed later. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}
