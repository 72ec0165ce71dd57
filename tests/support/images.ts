// The image API as a client of the running stack uses it: upload, then wait for the thumbnail.
import { readImageHeader } from '@twin/thumbnails';
import { imageIn, truncatedJpeg, UPLOAD_FORMATS } from '../../packages/thumbnails/tests/fixtures';
import type { UploadedImage } from '../../services/frontend/web/api-types';

/** POST /api/images with one file; the 201 body, or the status and error of a refusal. */
export async function uploadImage(
  frontend: string,
  image: Buffer,
  name: string,
): Promise<UploadedImage & { status: number; error?: string }> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(image)]), name);
  const response = await fetch(`${frontend}/api/images`, { method: 'POST', body: form });
  return { ...((await response.json()) as UploadedImage & { error?: string }), status: response.status };
}

/** Where a thumbnail ended: its bytes, or the 404 body that says it failed. */
export type ThumbnailOutcome =
  { state: 'ready'; bytes: Buffer } | { state: 'failed'; reason: string; message: string };

/** Polls GET /api/images/<id>/thumbnail every 50 ms until it is there or failed; throws after `timeoutMs`. */
export async function waitForThumbnail(
  frontend: string,
  id: string,
  timeoutMs: number,
): Promise<ThumbnailOutcome> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${frontend}/api/images/${id}/thumbnail`);
    if (response.status === 200) return { state: 'ready', bytes: Buffer.from(await response.arrayBuffer()) };
    const body = (await response.json()) as { thumbnail?: string; reason?: string; message?: string };
    if (response.status !== 404) throw new Error(`unexpected ${response.status}`);
    if (body.thumbnail === 'failed')
      return { state: 'failed', reason: body.reason ?? '', message: body.message ?? '' };
    if (Date.now() > deadline) throw new Error(`no thumbnail for ${id} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The thumbnail's bytes; throws when it failed. */
export async function thumbnailOf(frontend: string, id: string, timeoutMs: number): Promise<Buffer> {
  const outcome = await waitForThumbnail(frontend, id, timeoutMs);
  if (outcome.state !== 'ready') throw new Error(`thumbnail of ${id} failed: ${outcome.message}`);
  return outcome.bytes;
}

/**
 * What any thumbnail maker must do behind the frontend of a running stack (the thumbnailer or the
 * Lambda function): a 200x200 thumbnail in each format the README lists, from a fixture made now, and a
 * damaged image shown as failed, with its reason, in the list and at its thumbnail's URL.
 */
export function itMakesThumbnailsOfEveryFormat(frontendOf: () => string): void {
  it.each(UPLOAD_FORMATS)(
    'makes a 200x200 %s thumbnail of a %s upload',
    async (format) => {
      const frontend = frontendOf();
      const { id, status } = await uploadImage(
        frontend,
        await imageIn(format, 320, 240),
        `picture.${format}`,
      );
      expect(status).toBe(201);
      const thumbnail = await thumbnailOf(frontend, id, 10_000);
      expect(await readImageHeader(thumbnail, 1_000_000)).toEqual({ format, width: 200, height: 200 });
    },
    30_000,
  );

  it('shows a thumbnail that will never come as failed, in the list and at its URL', async () => {
    const frontend = frontendOf();
    const { id, status } = await uploadImage(frontend, await truncatedJpeg(0.6), 'cut.jpg');
    expect(status).toBe(201);
    expect(await waitForThumbnail(frontend, id, 10_000)).toMatchObject({
      state: 'failed',
      reason: 'corrupt-image',
    });
    const { items } = (await (await fetch(`${frontend}/api/images`)).json()) as { items: unknown[] };
    expect(items).toContainEqual(
      expect.objectContaining({ id, thumbnail: 'failed', reason: 'corrupt-image' }),
    );
  }, 30_000);
}
