import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { type Response, Router } from 'express';
import { HttpError } from '@twin/service-kit';
import type { UploadedImage } from '../web/api-types';
import type { ImageObject, ImageStore } from './image-store';
import { checkImage, safeFileName, uploadError, type UploadLimits, uploadParser } from './image-upload';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function imageId(id: string | undefined): string {
  if (!id || !UUID.test(id)) throw new HttpError(400, 'id: must be an image id (UUID)');
  return id;
}

async function stream(res: Response, object: ImageObject | undefined, missing: string): Promise<void> {
  if (!object) throw new HttpError(404, missing);
  res.type(object.contentType);
  if (object.bytes !== undefined) res.setHeader('content-length', object.bytes);
  res.setHeader('cache-control', 'no-store');
  await pipeline(object.body, res);
}

/** Uploads go to the object store; its ObjectCreated event takes them to the thumbnailer. */
export function imageRoutes(store: ImageStore, limits: UploadLimits): Router {
  const router = Router();
  const parse = uploadParser(limits);

  router.post('/api/images', (req, res, next) => {
    parse(req, res, (err?: unknown) => {
      if (err) return next(uploadError(err, limits.maxBytes));
      const file = req.file;
      if (!file) return next(new HttpError(400, 'file: is required (multipart/form-data field "file")'));
      checkImage(file.buffer, limits)
        .then(async (image) => {
          const id = randomUUID();
          const name = safeFileName(file.originalname, image.format);
          const key = await store.put(id, name, file.buffer, image.contentType);
          const uploaded: UploadedImage = {
            id,
            name,
            key,
            contentType: image.contentType,
            bytes: file.size,
            width: image.width,
            height: image.height,
            imageUrl: `/api/images/${id}`,
            thumbnailUrl: `/api/images/${id}/thumbnail`,
          };
          res.status(201).json(uploaded);
        })
        .catch(next);
    });
  });

  router.get('/api/images', async (_req, res) => {
    res.json({ items: await store.list() });
  });

  router.get('/api/images/:id', async (req, res) => {
    const id = imageId(req.params.id);
    await stream(res, await store.open(id, 'upload'), `image ${id} not found`);
  });

  router.get('/api/images/:id/thumbnail', async (req, res) => {
    const id = imageId(req.params.id);
    await stream(res, await store.open(id, 'thumbnail'), `thumbnail of ${id} is not ready`);
  });

  return router;
}
