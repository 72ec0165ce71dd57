import type { Readable } from 'node:stream';
import { type Response, Router } from 'express';
import { expectedAnswer } from '@twin/observability';
import { HttpError } from '@twin/service-kit';
import { readPageQuery } from '@twin/service-kit/page-query';
import { type ImageEntry, imageIdFor, sourceKeyFor } from '@twin/thumbnails';
import type { ImageList, StoredImage, ThumbnailMissing, UploadedImage } from '../web/api-types';
import type { ImageObject, ImageStore } from './image-store';
import { checkImage, safeFileName, uploadError, type UploadLimits, uploadParser } from './image-upload';

/** The upload an id names; 400 for text that is not an image id. */
function sourceKey(id: string | undefined): string {
  const key = id === undefined ? undefined : sourceKeyFor(id);
  if (key === undefined) throw new HttpError(400, 'id: is not an image id', { field: 'id' });
  return key;
}

const urlsOf = (id: string) => ({
  imageUrl: `/api/images/${id}`,
  thumbnailUrl: `/api/images/${id}/thumbnail`,
});

function storedImage(entry: ImageEntry): StoredImage {
  return { ...entry, ...urlsOf(entry.id) };
}

/**
 * Streams an object into the response. Not stream.pipeline: on a ServerResponse it adds seven 'close'
 * listeners of its own (Node 20), which with the service's per-response listeners (request logging,
 * the drain on SIGTERM, OpenTelemetry's HTTP instrumentation) passed Node's default of 10 and made
 * every download log a MaxListenersExceededWarning. `pipe` adds one; the body is released when the
 * response closes, finished or not, so an abandoned download frees its connection to the store.
 */
function sendObject(res: Response, body: Readable): Promise<void> {
  return new Promise((resolve) => {
    res.once('close', () => {
      body.destroy();
      resolve();
    });
    // The status line is out: a store failure mid-body can only cut the response short.
    body.once('error', (err) => res.destroy(err));
    body.pipe(res);
  });
}

async function send(res: Response, object: ImageObject): Promise<void> {
  res.type(object.contentType);
  if (object.bytes !== undefined) res.setHeader('content-length', object.bytes);
  res.setHeader('cache-control', 'no-store');
  await sendObject(res, object.body);
}

/** Uploads go to the object store; its ObjectCreated event takes them to the thumbnail makers. */
export function imageRoutes(store: ImageStore, limits: UploadLimits): Router {
  const router = Router();
  const parse = uploadParser(limits);

  router.post('/api/images', (req, res, next) => {
    parse(req, res, (err?: unknown) => {
      if (err) return next(uploadError(err, limits.maxBytes));
      const file = req.file;
      if (!file) {
        return next(
          new HttpError(400, 'file: is required (multipart/form-data field "file")', { field: 'file' }),
        );
      }
      checkImage(file.buffer, limits)
        .then(async (image) => {
          const name = safeFileName(file.originalname, image.format);
          const key = await store.put(name, file.buffer, image.contentType);
          const id = imageIdFor(key);
          const uploaded: UploadedImage = {
            id,
            name,
            key,
            contentType: image.contentType,
            bytes: file.size,
            width: image.width,
            height: image.height,
            ...urlsOf(id),
          };
          res.status(201).json(uploaded);
        })
        .catch(next);
    });
  });

  router.get('/api/images', async (req, res) => {
    const page = await store.list(
      readPageQuery(req.query, (message, field) => new HttpError(400, message, { field })),
    );
    const list: ImageList = {
      items: page.items.map(storedImage),
      ...(page.nextCursor && { nextCursor: page.nextCursor }),
    };
    res.json(list);
  });

  router.get('/api/images/:id', async (req, res) => {
    const object = await store.open(sourceKey(req.params.id));
    if (!object) throw new HttpError(404, `image ${req.params.id} not found`);
    await send(res, object);
  });

  router.get('/api/images/:id/thumbnail', async (req, res) => {
    const thumbnail = await store.thumbnail(sourceKey(req.params.id));
    if (thumbnail.state === 'ready') return send(res, thumbnail);
    if (thumbnail.state === 'no-image') throw new HttpError(404, `image ${req.params.id} not found`);
    const missing: ThumbnailMissing =
      thumbnail.state === 'failed'
        ? {
            error: `no thumbnail: ${thumbnail.message}`,
            thumbnail: 'failed',
            reason: thumbnail.reason,
            message: thumbnail.message,
          }
        : { error: `the thumbnail of ${req.params.id} is not ready`, thumbnail: 'pending' };
    res.setHeader('cache-control', 'no-store');
    // Not made yet, or never will be: the state the page asks for every second, not a client's mistake.
    expectedAnswer(res);
    res.status(404).json(missing);
  });

  return router;
}
