// The JSON the frontend answers and the page reads, declared once: the server's routes and the
// page's modules both `import type` from here.

/**
 * A product in /api/products, relayed from the backend: the shape of `Product` in
 * packages/products, which the frontend (a relay of bytes) does not depend on.
 */
export interface Product {
  id: string;
  name: string;
  price: number;
  /** ISO 8601. */
  createdAt: string;
}

/** What GET /api/config tells the page. */
export interface PageConfig {
  /** The Jaeger UI as the browser reaches it, and the service to search for; null when not set. */
  jaeger: { url: string; service: string } | null;
  /** The page's own Traces view, reading Jaeger's query API through /api/jaeger/*; null when off. */
  traces: { service: string } | null;
}

/**
 * One image in GET /api/images: any object under uploads/ (uploaded here, or written to the bucket by
 * anything else), with where its thumbnail stands.
 */
export interface StoredImage {
  /** The key below uploads/ in base64url: URL-safe, stable, any key has one. */
  id: string;
  /** The key's last segment. */
  name: string;
  /** The object's key, `uploads/<path>`. */
  key: string;
  bytes: number;
  /** ISO 8601; absent when the object store did not say. */
  uploadedAt?: string;
  /** `failed`: there will be no thumbnail of this version of the image; `reason` and `message` say why. */
  thumbnail: 'ready' | 'pending' | 'failed';
  reason?: string;
  message?: string;
  imageUrl: string;
  thumbnailUrl: string;
}

/** GET /api/images: a page of images, newest upload first; `nextCursor` asks for the next page. */
export interface ImageList {
  items: StoredImage[];
  nextCursor?: string;
}

/** A tag, process tag or log field in Jaeger's JSON. */
export interface JaegerKeyValue {
  key: string;
  type: 'string' | 'bool' | 'int64' | 'float64';
  value: string | boolean | number;
}

/** A span's reference: its parent (CHILD_OF) or a link (FOLLOWS_FROM), possibly to another trace. */
export interface JaegerReference {
  refType: 'CHILD_OF' | 'FOLLOWS_FROM';
  traceID: string;
  spanID: string;
}

/** A span in Jaeger's JSON (jaeger-query's UI model). */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: JaegerReference[];
  /** Microseconds since the epoch. */
  startTime: number;
  /** Microseconds. */
  duration: number;
  tags: JaegerKeyValue[];
  /** Span events: microseconds since the epoch, and fields (the event's name as `event`). */
  logs: Array<{ timestamp: number; fields: JaegerKeyValue[] }>;
  /** Key into the trace's processes. */
  processID: string;
  warnings: string[] | null;
}

/** A trace in Jaeger's JSON: spans and the processes (services) that made them. */
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: JaegerKeyValue[] }>;
  warnings: string[] | null;
}

/** Every answer of Jaeger's HTTP query API (GET /api/jaeger/* relays them). */
export interface JaegerResponse<T> {
  data: T;
  total: number;
  limit: number;
  offset: number;
  errors: Array<{ code?: number; msg: string; traceID?: string }> | null;
}

/** The 201 answer of POST /api/images. */
export interface UploadedImage {
  id: string;
  /** The file name as stored: any path dropped, cut to 200 bytes. */
  name: string;
  /** The object's key: `uploads/<folder>/<name>`, the folder unique and ordered newest first. */
  key: string;
  contentType: string;
  bytes: number;
  /** Pixels as displayed (EXIF orientation applied), read from the image's header. */
  width: number;
  height: number;
  imageUrl: string;
  thumbnailUrl: string;
}

/**
 * The 404 of GET /api/images/:id/thumbnail for an image that is there; `thumbnail: 'failed'` when there
 * will be none. An id with no image gets the plain 404 `{ error }` that GET /api/images/:id gives.
 */
export interface ThumbnailMissing {
  error: string;
  thumbnail: 'pending' | 'failed';
  reason?: string;
  message?: string;
}
