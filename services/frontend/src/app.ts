import type { Express } from 'express';
import type { Logger } from '@twin/observability';
import { createServiceApp, finishApp } from '@twin/service-kit';
import type { BackendClient } from './backend-client';
import type { ImageStore } from './image-store';
import type { UploadLimits } from './image-upload';
import { imageRoutes } from './images-routes';
import { type PageOptions, pageRoutes } from './page-routes';
import { productRoutes } from './products-routes';
import { type TraceQueryOptions, traceQueryRoutes } from './trace-query-routes';

export interface FrontendAppOptions {
  backend: BackendClient;
  images: ImageStore;
  uploadLimits: UploadLimits;
  version: string;
  logger: Logger;
  /** Whether the object store answers; the backend is checked by its client. */
  storeReady: () => Promise<void>;
  /** The web page's settings; by default no Jaeger links. */
  page?: PageOptions;
  /** Jaeger's query API for the page's Traces view; by default none (GET /api/jaeger/* answers 404). */
  traceQuery?: TraceQueryOptions;
}

export function createFrontendApp(options: FrontendAppOptions): Express {
  const { backend, images, uploadLimits, version, logger, storeReady, page, traceQuery } = options;
  const ready = async () => {
    await Promise.all([backend.ready(), storeReady()]);
  };
  const app = createServiceApp({ service: 'frontend', version, logger, ready });
  app.use(productRoutes(backend));
  app.use(imageRoutes(images, uploadLimits));
  app.use(traceQueryRoutes(traceQuery ?? { timeoutMs: 3000 }));
  app.use(pageRoutes({ traceService: 'frontend', ...page, traceView: traceQuery?.queryUrl !== undefined }));
  return finishApp(app, logger);
}
