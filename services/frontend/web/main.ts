// The web page: products, image uploads with their thumbnails, which backend version answers, and
// the canary split, one module each. Everything goes through the frontend's /api/*, as curl would.
import { setUpCanary } from './canary.js';
import { byId } from './dom.js';
import { pollImages, setUpImages } from './images.js';
import { loadProducts, setUpProducts } from './products.js';
import { loadConfig } from './trace-links.js';
import { refreshVersion, setUpVersionBadge } from './version-badge.js';

async function start(): Promise<void> {
  setUpProducts();
  setUpImages();
  setUpCanary();
  setUpVersionBadge();
  // Trace links need the config, so it comes first; the rest loads side by side.
  await loadConfig(byId<HTMLAnchorElement>('jaeger-link'));
  await Promise.all([refreshVersion(), loadProducts(), pollImages()]);
  document.body.dataset.ready = 'true';
}

void start();
