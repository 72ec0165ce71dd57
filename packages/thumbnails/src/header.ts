import sharp from 'sharp';
import { ImageRejectedError } from './errors';
import { SUPPORTED_FORMATS } from './formats';

/** What an image's header says, read without decoding a pixel. */
export interface ImageHeader {
  /** sharp's name for the format (`jpeg`, `png`, `svg`...), with AVIF as `avif` where sharp says `heif`. */
  readonly format: string;
  /** Pixels, as displayed: EXIF orientations 5 to 8 (a phone held upright) swap the stored sizes. */
  readonly width: number;
  readonly height: number;
}

/**
 * HEIF brands (ISO/IEC 23008-12 and the AV1 Image File Format): the `ftyp` box names them. sharp
 * reports AVIF and HEIC both as `heif`, and its prebuilt binaries decode only AVIF (AV1), so HEIC
 * (HEVC) is told apart here, by the brands, before sharp is asked.
 */
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);

const HEIC_MESSAGE = 'HEIC is not supported (convert it to JPEG or AVIF first)';

/** The major and compatible brands of an ISO-BMFF file's leading `ftyp` box; empty for anything else. */
function isoBrands(image: Buffer): string[] {
  if (image.length < 16 || image.toString('latin1', 4, 8) !== 'ftyp') return [];
  const end = Math.min(image.readUInt32BE(0), image.length);
  const brands = [image.toString('latin1', 8, 12)];
  for (let at = 16; at + 4 <= end; at += 4) brands.push(image.toString('latin1', at, at + 4));
  return brands;
}

/** sharp's messages can span lines and repeat them; one line of distinct parts, for logs and JSON. */
export function oneLine(message: string): string {
  return [...new Set(message.split(/\r?\n/).map((line) => line.trim()))].filter(Boolean).join('; ');
}

/** sharp's reading of the header; what it cannot read is an ImageRejectedError. */
async function headerOf(image: Buffer) {
  try {
    // sharp's own limit would refuse to report the size, so it is compared here instead.
    return await sharp(image, { limitInputPixels: false }).metadata();
  } catch (error) {
    const message = oneLine((error as Error).message);
    if (image.length === 0) throw new ImageRejectedError('corrupt-image', 'empty (0 bytes)');
    // librsvg read the SVG but found no size to render it at ("svgload_buffer: bad dimensions").
    if (/svgload/.test(message))
      throw new ImageRejectedError(
        'corrupt-image',
        'SVG without a size: it needs width and height, or a viewBox',
        'svg',
      );
    throw /unsupported image format/i.test(message)
      ? new ImageRejectedError('unsupported-format', `not a supported image (${SUPPORTED_FORMATS})`)
      : new ImageRejectedError('corrupt-image', `image header is damaged: ${message}`);
  }
}

/**
 * Reads an image's format and displayed size from its header (sharp's `metadata()`, which decodes no
 * pixels), and refuses it before anything is decoded when it declares more than `limitInputPixels`
 * pixels: a 50 KB PNG can declare 20000x20000. The one check for uploads (the frontend) and for
 * thumbnails (the makers). Throws ImageRejectedError: `unsupported-format` (not an image sharp reads,
 * or HEIC, said so), `corrupt-image` (a header sharp cannot read), `too-many-pixels`.
 */
export async function readImageHeader(image: Buffer, limitInputPixels: number): Promise<ImageHeader> {
  const brands = isoBrands(image);
  if (!brands.some((brand) => AVIF_BRANDS.has(brand)) && brands.some((brand) => HEIC_BRANDS.has(brand))) {
    throw new ImageRejectedError('unsupported-format', HEIC_MESSAGE);
  }
  const metadata = await headerOf(image);
  const { width, height } = metadata.autoOrient;
  if (width * height > limitInputPixels) {
    throw new ImageRejectedError(
      'too-many-pixels',
      `image is ${width}x${height}, more than ${limitInputPixels} pixels`,
    );
  }
  if (metadata.format !== 'heif') return { format: metadata.format, width, height };
  // Without an AVIF brand, an AV1-compressed HEIF is still AVIF as far as decoding goes.
  if (metadata.compression !== 'av1') throw new ImageRejectedError('unsupported-format', HEIC_MESSAGE);
  return { format: 'avif', width, height };
}
