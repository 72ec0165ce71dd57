import { backOff } from 'exponential-backoff';
import { request } from 'undici';
import { encodeEventKey, UPLOADS_PREFIX } from '@twin/thumbnails';
import type { S3EventRecord } from './object-store';

export interface EventTarget {
  name: string;
  url: string;
  /** The body this target expects for one record. */
  body(record: S3EventRecord): unknown;
}

export interface DeliveryLog {
  delivered(target: string, key: string, attempts: number): void;
  retrying(target: string, key: string, attempt: number, reason: string): void;
  gaveUp(target: string, key: string, reason: string): void;
}

/** A record as S3 (and MinIO) would send it: s3rver emits raw keys, S3 encodes them. */
export function s3Record(record: S3EventRecord): S3EventRecord {
  return {
    ...record,
    eventName: record.eventName.startsWith('s3:') ? record.eventName.slice(3) : record.eventName,
    s3: { ...record.s3, object: { ...record.s3.object, key: encodeEventKey(record.s3.object.key) } },
  };
}

/** MinIO's webhook body: the usual Records plus EventName and Key (bucket/key, encoded). */
export function minioWebhookBody(record: S3EventRecord): unknown {
  const s3 = s3Record(record);
  return {
    EventName: `s3:${s3.eventName}`,
    Key: `${s3.s3.bucket.name}/${s3.s3.object.key}`,
    Records: [s3],
  };
}

/** The S3Event a Lambda function receives. */
export function lambdaS3Event(record: S3EventRecord): unknown {
  return { Records: [s3Record(record)] };
}

export interface DeliveryOptions {
  targets: EventTarget[];
  log: DeliveryLog;
  /** Redelivery stops after this many attempts (about ten minutes at the default delays). */
  maxAttempts?: number;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Delivers each ObjectCreated event under `uploads/` (the prefix MinIO's webhook and the SAM
 * template's S3 event filter on) to every target, as MinIO's webhook does:
 * a non-2xx answer or a refused connection is retried with exponential backoff, so a target that
 * is down gets its events once it is back.
 */
export class EventDelivery {
  private readonly pending = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly options: DeliveryOptions) {}

  accept(record: S3EventRecord): void {
    const key = record.s3.object.key;
    if (!record.eventName.includes('ObjectCreated') || !key.startsWith(UPLOADS_PREFIX)) return;
    for (const target of this.options.targets) {
      const delivery = this.deliver(target, record).finally(() => this.pending.delete(delivery));
      this.pending.add(delivery);
    }
  }

  /** Stops retrying; deliveries in progress end at their next attempt. */
  stop(): void {
    this.stopped = true;
  }

  /** Events still being delivered or retried. */
  get inFlight(): number {
    return this.pending.size;
  }

  private async deliver(target: EventTarget, record: S3EventRecord): Promise<void> {
    const { log, maxAttempts = 200, firstDelayMs = 200, maxDelayMs = 3000 } = this.options;
    const key = record.s3.object.key;
    let attempts = 0;
    try {
      await backOff(
        async () => {
          attempts += 1;
          // undici's request rather than fetch: a third of fetch's CPU per POST (no WHATWG streams),
          // and this process also serves every object store request.
          const response = await request(target.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(target.body(record)),
            signal: AbortSignal.timeout(30_000),
          });
          const text = await response.body.text();
          // The Lambda Invoke API reports a failed function with 200 and this header.
          const functionError = response.headers['x-amz-function-error'];
          if (response.statusCode < 200 || response.statusCode > 299 || functionError) {
            throw new Error(
              `${response.statusCode}${functionError ? ` ${String(functionError)}` : ''} ${text.slice(0, 200)}`,
            );
          }
        },
        {
          numOfAttempts: maxAttempts,
          startingDelay: firstDelayMs,
          maxDelay: maxDelayMs,
          jitter: 'full',
          retry: (err: Error, attempt) => {
            if (this.stopped) return false;
            log.retrying(target.name, key, attempt, err.message);
            return true;
          },
        },
      );
      log.delivered(target.name, key, attempts);
    } catch (err) {
      log.gaveUp(target.name, key, (err as Error).message);
    }
  }
}
