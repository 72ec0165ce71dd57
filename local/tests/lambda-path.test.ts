import sharp from 'sharp';
import type { ServiceStats } from '@twin/lambda';
import { sampleImage } from '../../packages/thumbnails/tests/fixtures';
import type { Stack } from '../src';
import { itMakesThumbnailsOfEveryFormat, thumbnailOf, uploadImage } from '../../tests/support/images';
import { startTestStack } from '../../tests/support/stack';

describe('npm start -- --thumbnails=lambda: the serverless twin in the local stack', () => {
  let stack: Stack;
  const invocations: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    stack = await startTestStack({
      thumbnails: 'lambda',
      logLevel: 'info',
      log: (service, line) => {
        if (service === 'lambda' && line.includes('"invocation"')) invocations.push(JSON.parse(line));
      },
    });
  }, 60_000);
  afterAll(() => stack?.stop());

  it('answers the brief hello through the API Gateway emulation', async () => {
    const response = await fetch(`${stack.url('lambda')}/hello?name=Alice`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { message: string; timestamp: string };
    expect(body.message).toBe('Hello, Alice!');
    expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp);
  });

  it('reads and writes the same products table as the backend', async () => {
    const created = await fetch(`${stack.url('lambda')}/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"Laptop","price":999.99}',
    });
    expect(created.status).toBe(201);
    const product = (await created.json()) as { id: string };
    const viaMesh = (await (await fetch(`${stack.url('frontend')}/api/products/${product.id}`)).json()) as {
      id: string;
    };
    expect(viaMesh.id).toBe(product.id);
  });

  it('makes the upload thumbnail with the Lambda imageProcessor, with no thumbnailer running', async () => {
    expect(stack.services.has('thumbnailer')).toBe(false);
    const { id, status } = await uploadImage(
      stack.url('frontend'),
      await sampleImage('jpeg'),
      'my photo ñ.jpg',
    );
    expect(status).toBe(201);
    const metadata = await sharp(await thumbnailOf(stack.url('frontend'), id, 5000)).metadata();
    expect([metadata.width, metadata.height]).toEqual([200, 200]);
    // The emulator logs the invocation once its environment has answered, which may be a moment
    // after the thumbnail is written.
    const logged = () => invocations.some((entry) => entry.function === 'ImageProcessorFunction');
    const deadline = Date.now() + 10_000;
    while (!logged() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(invocations).toContainEqual(
      expect.objectContaining({ function: 'ImageProcessorFunction', outcome: expect.any(String) }),
    );
  }, 30_000);

  it('invokes the imageProcessor through its live alias, as S3 does once SAM has published one', async () => {
    const { id } = await uploadImage(stack.url('frontend'), await sampleImage('png'), 'aliased.png');
    await thumbnailOf(stack.url('frontend'), id, 30_000);
    const stats = (await (await fetch(`${stack.url('lambda')}/__emulator/functions`)).json()) as ServiceStats;
    const fn = stats.functions.find((candidate) => candidate.name === 'ImageProcessorFunction');
    // The alias points at version 1 (no other is published): $LATEST, the unqualified name, runs nothing.
    expect(fn?.alias).toMatchObject({ name: 'live', functionVersion: '1' });
    const invocations = Object.fromEntries(fn!.versions.map((pool) => [pool.version, pool.invocations]));
    expect(invocations['1']).toBeGreaterThan(0);
    expect(invocations.$LATEST).toBe(0);
  }, 60_000);

  itMakesThumbnailsOfEveryFormat(() => stack.url('frontend'));
});
