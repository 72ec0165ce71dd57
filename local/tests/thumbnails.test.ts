import sharp from 'sharp';
import { heicBrandedFile, minioEvent, sampleImage } from '../../packages/thumbnails/tests/fixtures';
import type { Stack } from '../src';
import { itMakesThumbnailsOfEveryFormat, thumbnailOf, uploadImage } from '../../tests/support/images';
import { startTestStack } from '../../tests/support/stack';

describe('upload -> object store event -> thumbnailer (real processes, s3rver, sharp)', () => {
  let stack: Stack;
  let frontend: string;
  /** What the event delivery reported: retries and drops. */
  const deliveryLog: string[] = [];
  /** Everything the frontend process wrote, stdout and stderr. */
  const frontendOutput: string[] = [];

  beforeAll(async () => {
    stack = await startTestStack({
      log: (service, line) => {
        if (service === 'stack') deliveryLog.push(line);
        if (service === 'frontend') frontendOutput.push(line);
      },
    });
    frontend = stack.url('frontend');
  }, 60_000);
  afterAll(() => stack?.stop());

  it('makes a 200x200 thumbnail within 2 s, for a name with spaces and non-ASCII', async () => {
    const { id, status } = await uploadImage(
      frontend,
      await sampleImage('jpeg', 1024, 768),
      'my photo ñ.jpg',
    );
    expect(status).toBe(201);
    const thumbnail = await thumbnailOf(frontend, id, 2000);
    const metadata = await sharp(thumbnail).metadata();
    expect([metadata.width, metadata.height, metadata.format]).toEqual([200, 200, 'jpeg']);
    const listed = (await (await fetch(`${frontend}/api/images`)).json()) as { items: unknown[] };
    expect(listed.items).toContainEqual(
      expect.objectContaining({ id, name: 'my photo ñ.jpg', thumbnail: 'ready' }),
    );
  }, 30_000);

  itMakesThumbnailsOfEveryFormat(() => frontend);

  it('refuses HEIC at upload, saying so', async () => {
    const answer = await uploadImage(frontend, await heicBrandedFile(), 'IMG_0001.HEIC');
    expect(answer.status).toBe(415);
    expect(answer.error).toMatch(/HEIC is not supported/);
  });

  it('downloads an image and its thumbnail 50 times each without a listener warning in the output', async () => {
    const { id, imageUrl, status } = await uploadImage(
      frontend,
      await sampleImage('png', 320, 240),
      'often.png',
    );
    expect(status).toBe(201);
    const thumbnail = await thumbnailOf(frontend, id, 5000);
    const image = Buffer.from(await (await fetch(`${frontend}${imageUrl}`)).arrayBuffer());
    const before = frontendOutput.length;
    for (let i = 0; i < 50; i += 1) {
      for (const [url, expected] of [
        [imageUrl, image],
        [`/api/images/${id}/thumbnail`, thumbnail],
      ] as const) {
        const response = await fetch(`${frontend}${url}`);
        expect(response.status).toBe(200);
        expect(Buffer.compare(Buffer.from(await response.arrayBuffer()), expected)).toBe(0);
      }
    }
    // Warnings are written as the process emits them; give the last one time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(frontendOutput.slice(before).filter((line) => /Warning/.test(line))).toEqual([]);
  }, 60_000);

  it('loses none of 20 concurrent uploads', async () => {
    const images = await Promise.all(Array.from({ length: 20 }, (_, i) => sampleImage('png', 300 + i, 200)));
    const uploads = await Promise.all(
      images.map((image, i) => uploadImage(frontend, image, `batch ${i}.png`)),
    );
    expect(uploads.map((u) => u.status)).toEqual(Array(20).fill(201));
    const thumbnails = await Promise.all(uploads.map(({ id }) => thumbnailOf(frontend, id, 15_000)));
    for (const thumbnail of thumbnails) expect((await sharp(thumbnail).metadata()).width).toBe(200);
  }, 60_000);

  it('treats the same event delivered twice as one thumbnail, no error', async () => {
    const { id, key } = await uploadImage(frontend, await sampleImage('webp'), 'twice.webp');
    await thumbnailOf(frontend, id, 5000);
    const event = minioEvent(key);
    const answers = await Promise.all(
      [1, 2].map(async () => {
        const response = await fetch(`${stack.url('thumbnailer')}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(event),
        });
        return {
          status: response.status,
          body: (await response.json()) as { results: Array<{ outcome: string }> },
        };
      }),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers.map((a) => a.body.results[0]?.outcome)).toEqual(['already-exists', 'already-exists']);
  }, 30_000);

  it('delivers every event that arrived during a 5 s thumbnailer outage once it is back, losing none', async () => {
    const thumbnailer = stack.services.get('thumbnailer')!;
    await thumbnailer.stop();
    const downSince = Date.now();
    deliveryLog.length = 0;
    // Uploads keep arriving through the outage: 4 waves of 4, a second apart.
    const uploads: Array<{ id: string; status: number }> = [];
    for (let wave = 0; wave < 4; wave++) {
      const batch = await Promise.all(
        [0, 1, 2, 3].map(async (i) =>
          uploadImage(frontend, await sampleImage('jpeg', 320 + i, 240), `while down ${wave}-${i}.jpg`),
        ),
      );
      uploads.push(...batch);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(uploads.map((u) => u.status)).toEqual(Array(16).fill(201));
    await new Promise((resolve) => setTimeout(resolve, 5000 - (Date.now() - downSince)));
    const pending = await Promise.all(
      uploads.map(async ({ id }) => (await fetch(`${frontend}/api/images/${id}/thumbnail`)).status),
    );
    expect(pending).toEqual(Array(16).fill(404));
    // The first events have been refused and retried many times by now.
    expect(deliveryLog.filter((line) => line.includes('failed')).length).toBeGreaterThan(16);

    await thumbnailer.start();
    const thumbnails = await Promise.all(uploads.map(({ id }) => thumbnailOf(frontend, id, 15_000)));
    for (const thumbnail of thumbnails) expect((await sharp(thumbnail).metadata()).width).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(stack.events.inFlight).toBe(0);
    expect(deliveryLog.filter((line) => line.includes('dropped'))).toEqual([]);
    expect(
      deliveryLog.filter((line) => / delivered to thumbnailer after \d+ attempts/.test(line)),
    ).toHaveLength(16);
  }, 90_000);
});
