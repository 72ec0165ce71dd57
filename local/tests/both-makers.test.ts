import { sampleImage } from '../../packages/thumbnails/tests/fixtures';
import type { Stack } from '../src';
import { thumbnailOf, uploadImage } from '../../tests/support/images';
import { startTestStack } from '../../tests/support/stack';

describe('npm start -- --thumbnails=both: the thumbnailer and the Lambda imageProcessor race on each upload', () => {
  let stack: Stack;
  /** Each maker's outcome per source key, from their log lines. */
  const outcomes = new Map<string, Array<{ maker: string; outcome: string }>>();

  beforeAll(async () => {
    stack = await startTestStack({
      thumbnails: 'both',
      logLevel: 'info',
      log: (service, line) => {
        if (!line.startsWith('{') || !line.includes('"outcome"')) return;
        const entry = JSON.parse(line) as { key?: string; outcome?: string; msg?: string };
        if (!entry.key || !entry.outcome || !entry.msg?.startsWith('thumbnail')) return;
        outcomes.set(entry.key, [
          ...(outcomes.get(entry.key) ?? []),
          { maker: service, outcome: entry.outcome },
        ]);
      },
    });
  }, 60_000);
  afterAll(() => stack?.stop());

  it('writes each thumbnail once: one maker creates it, the other finds it there', async () => {
    const frontend = stack.url('frontend');
    const uploads = await Promise.all(
      [0, 1, 2, 3].map(async (i) =>
        uploadImage(frontend, await sampleImage('jpeg', 640 + i, 480), `race ${i}.jpg`),
      ),
    );
    for (const { id } of uploads) await thumbnailOf(frontend, id, 15_000);
    const deadline = Date.now() + 15_000;
    while (uploads.some(({ key }) => (outcomes.get(key) ?? []).length < 2) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const { key } of uploads) {
      const seen = outcomes.get(key) ?? [];
      expect(seen.map(({ maker }) => maker).sort()).toEqual(['lambda', 'thumbnailer']);
      expect(seen.map(({ outcome }) => outcome).sort()).toEqual(['already-exists', 'created']);
    }
  }, 60_000);
});
