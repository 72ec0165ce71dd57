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

/** One upload in GET /api/images, with whether its thumbnail exists yet. */
export interface StoredImage {
  id: string;
  name: string;
  bytes: number;
  /** ISO 8601; absent when the object store did not say. */
  uploadedAt?: string;
  thumbnail: 'ready' | 'pending';
}

/** The 201 answer of POST /api/images. */
export interface UploadedImage {
  id: string;
  /** The file name as stored: any path dropped, cut to 200 bytes. */
  name: string;
  /** The object's key: `uploads/<id>/<name>`. */
  key: string;
  contentType: string;
  bytes: number;
  /** Pixels, read from the image's header. */
  width: number;
  height: number;
  imageUrl: string;
  thumbnailUrl: string;
}
