import type { RejectionReason } from './errors';
import type { KeySkipReason } from './keys';

/** Why a record needs no thumbnail. Skips are final: the caller acknowledges the event. */
export type SkipReason =
  | 'not-object-created'
  | 'invalid-key-encoding'
  | KeySkipReason
  /** The object was deleted (or its bucket removed) before the event was processed. */
  | 'source-missing'
  /**
   * The object was replaced while this event was processed, and the thumbnail there is another
   * version's: the newer version's own event makes (or made) the thumbnail that counts.
   */
  | 'source-replaced';

interface RecordOutcome {
  readonly bucket: string;
  /** The decoded object key, or the key as it arrived when it could not be decoded. */
  readonly key: string;
}

/** What happened to one record of a notification. Transient failures are thrown instead (TransientError). */
export type RecordResult =
  | (RecordOutcome & {
      readonly outcome: 'created';
      readonly thumbnailKey: string;
      readonly contentType: string;
      readonly bytes: number;
    })
  /** A thumbnail of this very source version is there already: a redelivered event, or another maker. */
  | (RecordOutcome & { readonly outcome: 'already-exists'; readonly thumbnailKey: string })
  | (RecordOutcome & { readonly outcome: 'skipped'; readonly reason: SkipReason })
  /**
   * Permanent: the source is not an image we will thumbnail, and a failure marker saying why is at
   * thumbnailKey (written now, or found there for this source version). Acknowledge; never retry.
   */
  | (RecordOutcome & {
      readonly outcome: 'failed';
      readonly thumbnailKey: string;
      readonly reason: RejectionReason;
      readonly message: string;
    });
