import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DataPlane } from '../../src/data-plane';
import type { ProxySpec } from '../../src/proxy';

export const REPO = path.resolve(__dirname, '../../../..');

/** A copy of k8s/istio and k8s/overlays that a test may edit. */
export function copyPolicy(): {
  root: string;
  edit(file: string, change: (text: string) => string): void;
  remove(): void;
} {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-policy-'));
  for (const dir of ['k8s/istio', 'k8s/overlays'])
    fs.cpSync(path.join(REPO, dir), path.join(root, dir), { recursive: true });
  return {
    root,
    edit: (file, change) =>
      fs.writeFileSync(path.join(root, file), change(fs.readFileSync(path.join(root, file), 'utf8'))),
    remove: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * A stand-in app (named as such): answers `/version` with its version as the backend does, counts
 * the requests it got and the headers of the last one, and can be told to fail or to hang.
 */
export async function fakeApp(name: string, version: string) {
  const state = {
    name,
    hits: 0,
    status: 200,
    hang: false,
    delayMs: 0,
    lastHeaders: {} as http.IncomingHttpHeaders,
  };
  const hung: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    state.hits += 1;
    state.lastHeaders = req.headers;
    req.resume();
    if (state.hang) {
      hung.push(res);
      return;
    }
    setTimeout(() => {
      res.writeHead(state.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ service: name, version, path: req.url, method: req.method }));
    }, state.delayMs);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    state,
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
export type FakeApp = Awaited<ReturnType<typeof fakeApp>>;

const NS = 'mesh-demo';

/**
 * The mesh of the local stack over stand-in apps: the ingress gateway, the frontend's sidecar
 * (outbound to the backend), backend v1 x2 and v2 x1, and the thumbnailer's sidecar (outbound to
 * the backend too, to be refused by its policy).
 */
export async function startMesh(root: string, stage = 'canary-10', env: NodeJS.ProcessEnv = {}) {
  const apps = {
    frontend: await fakeApp('frontend', '1.0.0'),
    'backend-v1-0': await fakeApp('backend', '1.0.0'),
    'backend-v1-1': await fakeApp('backend', '1.0.0'),
    'backend-v2-0': await fakeApp('backend', '2.0.0'),
  };
  const backend = (name: keyof typeof apps, version: string): ProxySpec => ({
    name,
    namespace: NS,
    serviceAccount: 'backend',
    labels: { app: 'backend', version },
    inbound: { port: 0, appAddress: apps[name].address },
  });
  const proxies: ProxySpec[] = [
    {
      name: 'istio-ingressgateway',
      namespace: 'istio-system',
      serviceAccount: 'istio-ingressgateway-service-account',
      labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' },
      gateway: { port: 0 },
    },
    {
      name: 'frontend',
      namespace: NS,
      serviceAccount: 'frontend',
      labels: { app: 'frontend', version: 'v1' },
      inbound: { port: 0, appAddress: apps.frontend.address },
      outbound: [{ host: 'backend', port: 0 }],
    },
    backend('backend-v1-0', 'v1'),
    backend('backend-v1-1', 'v1'),
    backend('backend-v2-0', 'v2'),
    {
      name: 'thumbnailer',
      namespace: NS,
      serviceAccount: 'thumbnailer',
      labels: { app: 'thumbnailer', version: 'v1' },
      outbound: [{ host: 'backend', port: 0 }],
    },
  ];
  const lines: string[] = [];
  const plane = await DataPlane.start({ root, stage, proxies, log: (line) => lines.push(line), env });
  const port = (proxy: string, kind: 'inbound' | 'gateway' | 'backend') => {
    const p = plane.proxy(proxy)!.ports;
    return kind === 'inbound' ? p.inbound! : kind === 'gateway' ? p.gateway! : p.outbound.backend!;
  };
  return {
    plane,
    apps,
    lines,
    /** The frontend's BACKEND_URL: its sidecar's outbound listener for the backend. */
    backendUrl: `http://127.0.0.1:${port('frontend', 'backend')}`,
    thumbnailerBackendUrl: `http://127.0.0.1:${port('thumbnailer', 'backend')}`,
    gatewayUrl: `http://127.0.0.1:${port('istio-ingressgateway', 'gateway')}`,
    inboundPort: (proxy: string) => port(proxy, 'inbound'),
    accessLog: () =>
      lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
    stat: (proxy: string, name: string) => plane.proxy(proxy)!.stats.get(name),
    async stop() {
      await plane.stop();
      await Promise.all(Object.values(apps).map((app) => app.close()));
    },
  };
}
export type Mesh = Awaited<ReturnType<typeof startMesh>>;

/** `n` GETs of /version through `url`, `concurrency` at a time: statuses and versions counted. */
export async function load(url: string, n: number, concurrency = 4, init: RequestInit = {}) {
  const counts: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next += 1;
      const res = await fetch(`${url}/version`, init);
      const text = await res.text();
      const key =
        res.status === 200 ? (JSON.parse(text) as { version: string }).version : `HTTP ${res.status}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return counts;
}

/** Polls `check` until it returns true, or fails after `timeoutMs` (generous: the machine may be busy). */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
