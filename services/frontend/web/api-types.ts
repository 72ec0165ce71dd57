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

/** The 404 of GET /api/images/:id/thumbnail; `thumbnail: 'failed'` when there will be none. */
export interface ThumbnailMissing {
  error: string;
  thumbnail: 'pending' | 'failed';
  reason?: string;
  message?: string;
}
