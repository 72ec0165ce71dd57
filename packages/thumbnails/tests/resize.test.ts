import sharp from 'sharp';
import { createThumbnail, ImageRejectedError } from '../src';
import { resolveThumbnailOptions } from '../src/options';
import { decompressionBombPng, sampleImage } from './fixtures';

/** The RGB values of one pixel of an encoded image. */
async function rgbAt(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const offset = (y * info.width + x) * info.channels;
  return [...data.subarray(offset, offset + 3)];
}

async function rejection(promise: Promise<unknown>): Promise<ImageRejectedError> {
  const error = await promise.catch((thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(ImageRejectedError);
  return error as ImageRejectedError;
}

describe('createThumbnail', () => {
  it.each([
    ['jpeg', 'image/jpeg'],
    ['png', 'image/png'],
    ['webp', 'image/webp'],
    ['gif', 'image/gif'],
    ['avif', 'image/avif'],
    ['tiff', 'image/tiff'],
  ] as const)('keeps the %s format', async (format, contentType) => {
    const source = await sharp(await sampleImage('png', 320, 240))
      .toFormat(format)
      .toBuffer();

    const thumbnail = await createThumbnail(source);

    expect(thumbnail).toMatchObject({ format, contentType, width: 200, height: 200 });
    const written = await sharp(thumbnail.data).metadata();
    expect(written).toMatchObject({ width: 200, height: 200 });
    expect(format === 'avif' ? written.compression : written.format).toBe(format === 'avif' ? 'av1' : format);
  });

  it('writes formats sharp reads but cannot write (SVG) as PNG', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="100"><rect width="400" height="100" fill="red"/></svg>',
    );

    expect(await createThumbnail(svg)).toMatchObject({ format: 'png', contentType: 'image/png', width: 200 });
  });

  it('crops to fill the box (fit cover), keeping the centre', async () => {
    // 300x100: red | green | blue in thirds. Cover to 100x100 keeps the green middle.
    const thirds = await sharp({ create: { width: 300, height: 100, channels: 3, background: 'red' } })
      .composite([
        {
          input: { create: { width: 100, height: 100, channels: 3, background: '#00ff00' } },
          left: 100,
          top: 0,
        },
        {
          input: { create: { width: 100, height: 100, channels: 3, background: 'blue' } },
          left: 200,
          top: 0,
        },
      ])
      .png()
      .toBuffer();

    const thumbnail = await createThumbnail(thirds, { width: 100, height: 100 });

    for (const x of [5, 50, 94]) expect(await rgbAt(thumbnail.data, x, 50)).toEqual([0, 255, 0]);
  });

  it('applies the EXIF orientation', async () => {
    // Stored 200x100, red left and blue right; orientation 6 displays it rotated 90° clockwise: red on top.
    const stored = await sharp({ create: { width: 200, height: 100, channels: 3, background: 'blue' } })
      .composite([
        { input: { create: { width: 100, height: 100, channels: 3, background: 'red' } }, left: 0, top: 0 },
      ])
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 100 })
      .toBuffer();

    const thumbnail = await createThumbnail(stored, { width: 50, height: 100 });

    const [top, bottom] = [await rgbAt(thumbnail.data, 25, 10), await rgbAt(thumbnail.data, 25, 90)];
    expect(top[0]).toBeGreaterThan(200);
    expect(bottom[2]).toBeGreaterThan(200);
    expect((await sharp(thumbnail.data).metadata()).orientation).toBeUndefined();
  });

  it('rejects a decompression bomb before decoding it', async () => {
    const error = await rejection(createThumbnail(decompressionBombPng()));
    expect(error.reason).toBe('too-many-pixels');
    expect(error.message).toContain('20000x20000');
  });

  it('applies limitInputPixels', async () => {
    const image = await sampleImage('png', 100, 100);
    expect((await rejection(createThumbnail(image, { limitInputPixels: 9_999 }))).reason).toBe(
      'too-many-pixels',
    );
    expect(await createThumbnail(image, { limitInputPixels: 10_000 })).toMatchObject({ format: 'png' });
  });

  it('rejects bytes that are not an image', async () => {
    expect((await rejection(createThumbnail(Buffer.from('just text')))).reason).toBe('unsupported-format');
  });

  it('rejects a truncated image', async () => {
    const jpeg = await sampleImage('jpeg');
    const error = await rejection(createThumbnail(jpeg.subarray(0, jpeg.length / 2)));
    expect(error.reason).toBe('corrupt-image');
  });
});

describe('resolveThumbnailOptions', () => {
  it('fills in the defaults', () => {
    expect(resolveThumbnailOptions({ width: 100, height: undefined })).toEqual({
      width: 100,
      height: 200,
      maxInputBytes: 20 * 1024 * 1024,
      limitInputPixels: 50_000_000,
      conditionalWrites: true,
    });
  });

  it.each([{ width: 0 }, { height: -1 }, { maxInputBytes: 1.5 }, { limitInputPixels: Number.NaN }])(
    'rejects %p',
    (options) => {
      expect(() => resolveThumbnailOptions(options)).toThrow(RangeError);
    },
  );
});
