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

/** A body the API cannot read as it was sent (a content coding other than identity): HTTP 415. */
export class UnsupportedMediaTypeError extends Error {
  override name = 'UnsupportedMediaTypeError';
}

/** The database failed, throttled or could not be reached: the request may succeed later. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}
