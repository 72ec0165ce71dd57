import path from 'node:path';
import express, { Router } from 'express';
import type { PageConfig } from '../web/api-types';

export interface PageOptions {
  /** The Jaeger UI as the user's browser reaches it; no trace links without it. */
  jaegerUiUrl?: string;
  /** The service name to search for in Jaeger: the frontend's own spans. */
  traceService: string;
  /** Whether the page's own Traces view can read traces (through GET /api/jaeger/*). */
  traceView?: boolean;
}

const workspaceDir = path.join(__dirname, '..');
/** HTML, CSS and icons, as written. */
const PUBLIC_DIR = path.join(workspaceDir, 'public');
/** The page's modules, compiled from web/ by the same `tsc -b` as the service. */
const SCRIPTS_DIR = path.join(workspaceDir, 'dist', 'web');
/** Chart.js's UMD build, served from node_modules: the page must work without internet access. */
const CHART_JS_DIR = path.dirname(require.resolve('chart.js'));
const CHART_JS_FILES = new Set(['chart.umd.min.js', 'chart.umd.min.js.map']);

/** The web page at `/`, its scripts under /js/, Chart.js under /vendor/, and GET /api/config. */
export function pageRoutes({ jaegerUiUrl, traceService, traceView }: PageOptions): Router {
  const router = Router();
  const config: PageConfig = {
    jaeger: jaegerUiUrl ? { url: jaegerUiUrl, service: traceService } : null,
    traces: traceView ? { service: traceService } : null,
  };
  router.get('/api/config', (_req, res) => {
    res.json(config);
  });
  router.get('/vendor/:file', (req, res, next) => {
    if (!CHART_JS_FILES.has(req.params.file)) return next();
    res.sendFile(req.params.file, { root: CHART_JS_DIR, maxAge: '1d' });
  });
  // Only the compiled modules and their source maps; declarations stay out.
  router.use('/js', (req, res, next) => (/\.js(\.map)?$/.test(req.path) ? next() : next('router')));
  router.use('/js', express.static(SCRIPTS_DIR, { index: false, fallthrough: true }));
  router.use(express.static(PUBLIC_DIR, { index: 'index.html' }));
  return router;
}
