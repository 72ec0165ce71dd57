import sharp from 'sharp';

export interface SampleImage {
  name: string;
  data: Buffer;
  width: number;
  height: number;
}

/**
 * Photo-like JPEGs: a colour gradient under fine noise, so they compress like camera pictures
 * (a few hundred KB at 1920x1080) rather than like flat test cards. Each one differs, so no layer
 * can serve a cached answer.
 */
export async function sampleImages(count: number, width = 1920, height = 1080): Promise<SampleImage[]> {
  const images: SampleImage[] = [];
  for (let i = 0; i < count; i += 1) {
    const hue = (i * 47) % 360;
    const gradient = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
        '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">' +
        `<stop offset="0" stop-color="hsl(${hue},70%,35%)"/>` +
        `<stop offset="1" stop-color="hsl(${(hue + 120) % 360},60%,70%)"/>` +
        '</linearGradient></defs>' +
        `<rect width="100%" height="100%" fill="url(#g)"/>` +
        `<circle cx="${(i * 211) % width}" cy="${(i * 137) % height}" r="${height / 4}" fill="hsl(${(hue + 240) % 360},50%,50%)"/>` +
        '</svg>',
    );
    const noise = await sharp({
      create: {
        width,
        height,
        channels: 3,
        background: '#808080',
        noise: { type: 'gaussian', mean: 128, sigma: 18 },
      },
    })
      .png()
      .toBuffer();
    const data = await sharp(gradient)
      .composite([{ input: noise, blend: 'overlay' }])
      .jpeg({ quality: 85 })
      .toBuffer();
    images.push({ name: `photo ${String(i + 1).padStart(2, '0')}.jpg`, data, width, height });
  }
  return images;
}
