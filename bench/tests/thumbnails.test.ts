import { describeCeiling, objectStoreCeiling } from '../src/thumbnail-ceiling';
import { ThumbnailWait } from '../src/thumbnails';
import { thumbnails } from './fixtures';

describe('ThumbnailWait', () => {
  it("starts at once, then at the first image's delay, later after a first GET that found nothing, sooner after one that found it", () => {
    const wait = new ThumbnailWait(0.75, 20);
    expect(wait.expectedMs).toBe(0);
    wait.seen(120, false);
    expect(wait.expectedMs).toBe(120);
    wait.seen(150, false);
    expect(wait.expectedMs).toBe(135);
    wait.seen(135, true);
    expect(wait.expectedMs).toBe(130);
  });

  it('settles where the asked share of first GETs find the thumbnail', () => {
    // Delays of 100..199 ms in a scrambled but fixed order (37 is coprime with 100).
    const delays = Array.from({ length: 4000 }, (_, i) => 100 + ((i * 37) % 100));
    for (const quantile of [0.5, 0.75]) {
      const wait = new ThumbnailWait(quantile, 2);
      let found = 0;
      delays.forEach((delay, i) => {
        const first = delay <= wait.expectedMs;
        wait.seen(delay, first);
        if (i >= 1000 && first) found += 1;
      });
      expect(wait.expectedMs).toBeGreaterThan(100 + quantile * 100 - 8);
      expect(wait.expectedMs).toBeLessThan(100 + quantile * 100 + 8);
      expect(found / 3000).toBeCloseTo(quantile, 1);
    }
  });
});

describe('objectStoreCeiling', () => {
  const raw = { ...thumbnails('raw sharp (in process)', 180), cpuMsPerImage: { 'this process (sharp)': 10 } };
  const pipeline = {
    ...thumbnails('thumbnailer', 30),
    cpuMsPerImage: { frontend: 12, 's3rver + event delivery': 15, thumbnailer: 20 },
  };

  it('is what the CPUs give when only the object store and sharp cost anything, beside raw sharp on them', () => {
    const ceiling = objectStoreCeiling(raw, pipeline, 2);
    expect(ceiling).toEqual({ storeMs: 15, sharpMs: 10, cpus: 2, imagesPerSecond: 80, shareOfRaw: 0.4 });
    expect(describeCeiling(ceiling!)).toBe(
      "s3rver and event delivery alone: 15 ms CPU per image -> at most 80 images/s on 2 CPUs together with sharp's 10 ms (40% of raw sharp on the same CPUs)",
    );
  });

  it('is unknown without CPU figures (off Linux)', () => {
    expect(objectStoreCeiling({ ...raw, cpuMsPerImage: {} }, pipeline, 2)).toBeUndefined();
    expect(objectStoreCeiling(raw, { ...pipeline, cpuMsPerImage: undefined }, 2)).toBeUndefined();
  });
});
