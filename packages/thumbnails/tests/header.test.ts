import { ImageRejectedError, readImageHeader } from '../src';
import {
  decompressionBombPng,
  heicBrandedFile,
  imageIn,
  rotatedPhoto,
  truncatedJpeg,
  UPLOAD_FORMATS,
} from './fixtures';

const LIMIT = 50_000_000;

async function rejection(image: Buffer, limit = LIMIT): Promise<ImageRejectedError> {
  const error = await readImageHeader(image, limit).catch((thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(ImageRejectedError);
  return error as ImageRejectedError;
}

describe('readImageHeader', () => {
  it.each(UPLOAD_FORMATS)('reads %s, AVIF by its own name', async (format) => {
    expect(await readImageHeader(await imageIn(format, 64, 48), LIMIT)).toEqual({
      format,
      width: 64,
      height: 48,
    });
  });

  it('reports the size as displayed: EXIF orientation 6 swaps width and height', async () => {
    expect(await readImageHeader(await rotatedPhoto(400, 200), LIMIT)).toEqual({
      format: 'jpeg',
      width: 200,
      height: 400,
    });
  });

  it('refuses HEIC, saying so', async () => {
    const error = await rejection(await heicBrandedFile());
    expect(error.reason).toBe('unsupported-format');
    expect(error.message).toMatch(/^HEIC is not supported/);
  });

  it.each([
    [
      'text',
      Buffer.from('hello, not an image'),
      'unsupported-format',
      /not a supported image \(jpeg, png, webp, gif, avif, tiff\)/,
    ],
    ['nothing', Buffer.alloc(0), 'corrupt-image', /empty/],
    [
      'a PNG signature and nothing else',
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      'corrupt-image',
      /damaged/,
    ],
  ])('refuses %s', async (_case, bytes, reason, message) => {
    const error = await rejection(bytes);
    expect(error.reason).toBe(reason);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  it('refuses an SVG with no size to render it at, saying so and that it is an SVG', async () => {
    const error = await rejection(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>'));
    expect(error).toMatchObject({ reason: 'corrupt-image', format: 'svg' });
    expect(error.message).toBe('SVG without a size: it needs width and height, or a viewBox');
  });

  it('refuses a declared 20000x20000 from the header alone', async () => {
    const error = await rejection(decompressionBombPng());
    expect(error).toMatchObject({ reason: 'too-many-pixels' });
    expect(error.message).toContain('20000x20000');
  });

  it('passes a truncated JPEG whose header is whole: the damage is for the decoder to find', async () => {
    expect(await readImageHeader(await truncatedJpeg(0.6), LIMIT)).toEqual({
      format: 'jpeg',
      width: 800,
      height: 600,
    });
  });
});
