import type { RecordResult } from './results';

/** The body is not an S3 event notification (AWS `{Records}` or MinIO's webhook body). HTTP shells answer 400. */
export class InvalidNotificationError extends Error {
  override readonly name = 'InvalidNotificationError';
}

/** Why an image can never become a thumbnail, however often the event is redelivered. */
export type RejectionReason = 'too-large' | 'too-many-pixels' | 'unsupported-format' | 'corrupt-image';

/** A permanent failure: the source bytes are not an image we will thumbnail. */
export class ImageRejectedError extends Error {
  override readonly name = 'ImageRejectedError';

  constructor(
    readonly reason: RejectionReason,
    message: string,
    /** The format the bytes are in, when that much was read (sharp's name: `svg`, `jpeg`...). */
    readonly format?: string,
  ) {
    super(message);
  }
}

/** A record whose object store call failed in a way that may succeed later (network, 5xx, throttling). */
export interface TransientFailure {
  readonly bucket: string;
  /** The key as it appears in the event (URL-encoded). */
  readonly key: string;
  readonly error: unknown;
}

/**
 * Thrown after every record was attempted when at least one failed transiently, so the caller gets the event
 * redelivered (HTTP 5xx, or a rejected Lambda invocation). Records that did complete are in `results`;
 * redelivery repeats them harmlessly.
 */
export class TransientError extends Error {
  override readonly name = 'TransientError';

  constructor(
    readonly failures: readonly TransientFailure[],
    readonly results: readonly RecordResult[],
  ) {
    const first = failures[0];
    super(
      `${failures.length} of ${failures.length + results.length} records failed transiently` +
        (first ? `; first: ${first.key}: ${errorMessage(first.error)}` : ''),
      { cause: first?.error },
    );
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
