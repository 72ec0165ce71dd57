// Property-based tests of the S3 event path: parseNotification (shared by the thumbnailer and the
// Lambda imageProcessor) and the thumbnailer's POST /events over a real s3rver. Whatever the body,
// the answer is 200 with one result per record or 400 with a JSON error: never a 5xx (which would
// make the object store redeliver a bad event forever), never a crash.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { createLogger } from '@twin/observability';
import {
  checkBucket,
  createThumbnailEvents,
  InvalidNotificationError,
  parseNotification,
  ThumbnailProcessor,
} from '@twin/thumbnails';
import { createThumbnailerApp } from '../../services/thumbnailer/src/app';
import {
  BUCKET,
  type ObjectStore,
  sampleImage,
  startObjectStore,
} from '../../packages/thumbnails/tests/fixtures';
import { expectNoLeak } from './support';

/** Objects that exist, so some records reach sharp and the thumbnail writes. */
const EXISTING = ['uploads/e1/photo.jpg', 'uploads/e2/not an image.png', 'thumbnails/e1/photo.jpg'];

const keys = fc.oneof(
  fc.constantFrom(
    ...EXISTING,
    'uploads/e2/not+an+image.png',
    'uploads/%ff',
    'uploads/a%00b.jpg',
    'uploads/../x.jpg',
    'uploads//x.jpg',
    'uploads/\ud800.jpg',
    'other/x.jpg',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }).map((key) => `uploads/${key}`),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.jsonValue({ maxDepth: 1 }),
);
const buckets = fc.oneof(
  fc.constant(BUCKET),
  fc.constantFrom('a/b', '..', '.', 'x', 'Images', 'no-such-bucket', '%', ' ', 'a b', '?x', '#'),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.jsonValue({ maxDepth: 1 }),
);
const eventNames = fc.oneof(
  fc.constantFrom('ObjectCreated:Put', 's3:ObjectCreated:Post', 'ObjectRemoved:Delete', 's3:TestEvent'),
  fc.string({ maxLength: 30 }),
  fc.jsonValue({ maxDepth: 1 }),
);
/** An S3 event record with any of its parts missing, mistyped or hostile. */
const looseRecords = fc
  .record(
    {
      eventName: eventNames,
      s3: fc.oneof(
        fc.record(
          {
            bucket: fc.oneof(
              fc.record({ name: buckets }, { requiredKeys: [] }),
              fc.jsonValue({ maxDepth: 1 }),
            ),
            object: fc.oneof(fc.record({ key: keys }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 1 })),
          },
          { requiredKeys: [] },
        ),
        fc.jsonValue({ maxDepth: 1 }),
      ),
    },
    { requiredKeys: [] },
  )
  .chain((record) => fc.oneof(fc.constant<unknown>(record), fc.jsonValue({ maxDepth: 2 })));
/** A record as the object store sends it, for any key: these reach S3 and sharp. */
const storeRecords = fc.record({
  eventName: fc.constantFrom('ObjectCreated:Put', 's3:ObjectCreated:Put', 'ObjectRemoved:Delete'),
  s3: fc.record({
    bucket: fc.record({ name: fc.constantFrom(BUCKET, 'no-such-bucket') }),
    object: fc.record({ key: keys }),
  }),
});
const records = fc.oneof(storeRecords, looseRecords);
const storeRecord = (key: string) => ({
  eventName: 'ObjectCreated:Put',
  s3: { bucket: { name: BUCKET }, object: { key } },
});
/** AWS's `{Records}` and MinIO's `{EventName, Key, Records}`, or something merely like them. */
const notifications = fc.oneof(
  fc.record(
    {
      Records: fc.oneof(fc.array(records, { maxLength: 4 }), fc.jsonValue({ maxDepth: 1 })),
      EventName: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 })),
      Key: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 })),
    },
    { requiredKeys: ['Records'] },
  ),
  fc.jsonValue(),
);
/** Bodies as they come over HTTP. */
const bodies = fc.oneof(
  fc
    .array(storeRecords, { minLength: 1, maxLength: 3 })
    .map((Records) => Buffer.from(JSON.stringify({ Records }))),
  notifications.map((value) => Buffer.from(JSON.stringify(value) ?? '')),
  fc.string({ unit: 'binary', maxLength: 200 }).map((text) => Buffer.from(text)),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
);

describe('parseNotification (fast-check)', () => {
  it('returns records of non-empty strings or throws InvalidNotificationError, for any value at all', () => {
    fc.assert(
      fc.property(
        fc.oneof(notifications, fc.anything(), fc.string({ unit: 'binary' }), fc.uint8Array()),
        (value) => {
          let parsed;
          try {
            parsed = parseNotification(value);
          } catch (err) {
            if (err instanceof InvalidNotificationError) return;
            throw err;
          }
          expect(Array.isArray(parsed)).toBe(true);
          for (const record of parsed) {
            expect(Object.keys(record).sort()).toEqual(['bucket', 'eventName', 'key']);
            for (const field of [record.bucket, record.key, record.eventName])
              expect(typeof field).toBe('string');
            expect(record.bucket).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
            expect(record.key).not.toBe('');
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('POST /events with hostile bodies (fast-check, real s3rver)', () => {
  let store: ObjectStore;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    store = await startObjectStore();
    const image = await sampleImage('jpeg', 64, 48);
    for (const key of EXISTING) {
      const body = key.endsWith('.png') ? Buffer.from('not an image') : image;
      await store.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    }
    const logger = createLogger('hostile-events', 'silent');
    const app = createThumbnailerApp({
      events: createThumbnailEvents(new ThumbnailProcessor(store.s3), logger),
      version: '1.0.0',
      logger,
      ready: () => checkBucket(store.s3, BUCKET),
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await store?.close();
  });

  it('answers 200 with one result per record, or 400 with a JSON error: never a 5xx', async () => {
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: new Uint8Array(body),
        });
        const text = await response.text();
        const context = `${body.toString('utf8').slice(0, 300)} -> ${response.status} ${text.slice(0, 300)}`;
        expectNoLeak(text, context);
        const answer = JSON.parse(text) as { results?: Array<{ outcome: string }>; error?: string };
        // The oracle: the shared parser decides what is a notification.
        let expected: number;
        try {
          expected = parseNotification(new TextDecoder('utf-8', { fatal: true }).decode(body)).length;
        } catch {
          expected = -1;
        }
        if (expected < 0) {
          if (response.status !== 400 || typeof answer.error !== 'string') throw new Error(context);
          outcomes.set('400', (outcomes.get('400') ?? 0) + 1);
          return;
        }
        if (response.status !== 200 || answer.results?.length !== expected) throw new Error(context);
        for (const { outcome } of answer.results) {
          expect(['created', 'already-exists', 'skipped', 'failed']).toContain(outcome);
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        }
      }),
      {
        numRuns: 500,
        examples: [
          // The same upload twice in one notification: made once, then found made.
          [Buffer.from(JSON.stringify({ Records: [0, 1].map(() => storeRecord(EXISTING[0]!)) }))],
          // An object that is not an image: failed, whatever the random bodies happen to reach.
          [Buffer.from(JSON.stringify({ Records: [storeRecord(EXISTING[1]!)] }))],
          // 503 "deliver the event again" before bucket names and keys were checked: the SDK refused
          // "a/b", s3rver failed on a NUL, and encoding a lone surrogate threw.
          [
            Buffer.from(
              JSON.stringify({
                Records: [
                  {
                    eventName: 'ObjectCreated:Put',
                    s3: { bucket: { name: 'a/b' }, object: { key: 'uploads/x' } },
                  },
                ],
              }),
            ),
          ],
          [
            Buffer.from(
              JSON.stringify({
                Records: [
                  {
                    eventName: 'ObjectCreated:Put',
                    s3: { bucket: { name: BUCKET }, object: { key: 'uploads/a%00b' } },
                  },
                ],
              }),
            ),
          ],
          [
            Buffer.from(
              JSON.stringify({
                Records: [
                  {
                    eventName: 'ObjectCreated:Put',
                    s3: { bucket: { name: BUCKET }, object: { key: 'uploads/\ud800' } },
                  },
                ],
              }),
            ),
          ],
        ],
      },
    );
    // The run reached every branch, not only the parser's refusals.
    expect([...outcomes.keys()].sort()).toEqual(
      expect.arrayContaining(['400', 'already-exists', 'created', 'failed', 'skipped']),
    );
  }, 120_000);
});
