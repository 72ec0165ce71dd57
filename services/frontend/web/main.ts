// The web page: products, image uploads with their thumbnails, which backend version answers, the
// canary split and the traces, one module each. Everything goes through the frontend's /api/*.
import { setUpCanary } from './canary.js';
import { byId } from './dom.js';
import { pollImages, setUpImages } from './images.js';
import { loadProducts, setUpProducts } from './products.js';
import { loadConfig } from './trace-links.js';
import { setUpTraces } from './traces.js';
import { refreshVersion, setUpVersionBadge } from './version-badge.js';

async function start(): Promise<void> {
  setUpProducts();
  setUpImages();
  setUpCanary();
  setUpVersionBadge();
  // Trace links need the config, so it comes first; the rest loads side by side.
  const config = await loadConfig(byId<HTMLAnchorElement>('jaeger-link'));
  if (config.traces) setUpTraces(config.traces.service);
  await Promise.all([refreshVersion(), loadProducts(), pollImages()]);
  document.body.dataset.ready = 'true';
}

void start();
