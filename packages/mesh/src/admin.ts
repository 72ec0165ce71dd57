// The data plane's admin endpoint: per proxy, what Envoy's admin interface shows of a sidecar
// (/stats, /clusters, /certs, /config_dump; www.envoyproxy.io/docs/envoy/latest/operations/admin),
// and the control plane's state: the configuration in force, the last one refused, and the stage,
// which `POST /stage` changes as `kubectl apply` of another overlay would; `POST /apply` takes
// resources as `kubectl apply -f` does.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataPlane } from './data-plane';
import { stageName } from './load';
import type { MeshProxy } from './proxy';

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body, null, 2)}\n`);
};
const text = (res: http.ServerResponse, body: string) => {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
};

/** Envoy's /clusters text: `<cluster>::<host>::<stat>::<value>` per host. */
function clustersText(proxy: MeshProxy): string {
  const lines: string[] = [];
  for (const cluster of proxy.activeClusters()) {
    const { name, outlierDetection, connectionPool } = cluster.policy;
    lines.push(`${name}::outlier::detection::${outlierDetection ? 'enabled' : 'disabled'}`);
    lines.push(`${name}::default_priority::max_connections::${connectionPool.maxConnections}`);
    lines.push(`${name}::default_priority::max_pending_requests::${connectionPool.http1MaxPendingRequests}`);
    lines.push(`${name}::default_priority::max_retries::${connectionPool.maxRetries}`);
    for (const host of cluster.hosts) {
      const at = `${name}::${host.endpoint.address}`;
      const ejected = cluster.outlier?.isEjected(host) ?? false;
      lines.push(`${at}::hostname::${host.endpoint.pod}`);
      lines.push(`${at}::health_flags::${ejected ? '/failed_outlier_check' : 'healthy'}`);
      lines.push(`${at}::rq_active::${host.active}`);
      lines.push(`${at}::rq_total::${host.requests}`);
      lines.push(`${at}::rq_success::${host.successes}`);
      lines.push(`${at}::rq_error::${host.errors}`);
      lines.push(`${at}::num_ejections::${cluster.outlier?.ejections(host) ?? 0}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Envoy's /certs, for the proxy's workload certificate and the root it trusts. */
function certs(proxy: MeshProxy, rootPem: string) {
  const c = proxy.certificate;
  return {
    certificates: [
      {
        ca_cert: [{ path: '<inline>', pem: rootPem }],
        cert_chain: [
          {
            path: '<inline>',
            serial_number: c.serialNumber,
            subject_alt_names: [{ uri: c.spiffeId }],
            valid_from: c.notBefore.toISOString(),
            expiration_time: c.notAfter.toISOString(),
            pem: c.certPem,
          },
        ],
      },
    ],
  };
}

function proxyRoute(plane: DataPlane, proxy: MeshProxy, view: string, url: URL, res: http.ServerResponse) {
  switch (view) {
    case 'stats': {
      let filter: RegExp | undefined;
      try {
        filter = url.searchParams.has('filter') ? new RegExp(url.searchParams.get('filter')!) : undefined;
      } catch (err) {
        return json(res, 400, { error: `filter: ${(err as Error).message}`, field: 'filter' });
      }
      if (url.searchParams.get('format') === 'json')
        return json(res, 200, {
          stats: proxy.stats.entries(filter).map(([name, value]) => ({ name, value })),
        });
      return text(res, proxy.stats.text(filter));
    }
    case 'clusters':
      return text(res, clustersText(proxy));
    case 'certs':
      return json(res, 200, certs(proxy, plane.rootPem));
    case 'config_dump':
      return json(res, 200, {
        version: plane.configStatus.version,
        spiffe_id: proxy.spiffeId,
        mtls_mode: proxy.mtlsMode(),
        listeners: proxy.ports,
        routes: proxy.routeTables(),
        clusters: proxy.activeClusters().map((cluster) => ({
          ...cluster.policy,
          hosts: cluster.hosts.map((h) => ({
            pod: h.endpoint.pod,
            address: h.endpoint.address,
            tls: h.endpoint.tls ? h.endpoint.tls.spiffeId : 'plaintext',
          })),
        })),
      });
    default:
      return json(res, 404, { error: `no view ${view}: stats, clusters, certs or config_dump` });
  }
}

/** The request body as text, at most `limit` bytes; undefined beyond. */
async function readText(req: http.IncomingMessage, limit: number): Promise<string | undefined> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > limit) return undefined;
  }
  return body;
}

async function readStage(req: http.IncomingMessage, url: URL): Promise<string | undefined> {
  if (url.searchParams.has('stage')) return url.searchParams.get('stage') ?? undefined;
  return (await readText(req, 1024))?.trim() || undefined;
}

const MANIFEST_LIMIT_BYTES = 256 * 1024;

/** Starts the admin endpoint on 127.0.0.1:`port` (0: any free port); resolves with its port and a close function. */
export async function startAdmin(
  plane: DataPlane,
  port: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const parts = url.pathname.split('/').filter(Boolean);
    if (req.method === 'GET' && url.pathname === '/ready') return text(res, 'LIVE\n');
    if (req.method === 'GET' && url.pathname === '/config') return json(res, 200, plane.configStatus);
    if (req.method === 'POST' && url.pathname === '/stage') {
      void readStage(req, url).then((stage) => {
        if (!stage) return json(res, 400, { error: 'stage: give one, e.g. canary-50', field: 'stage' });
        const { applied, status } = plane.setStage(stageName(stage));
        return json(res, applied ? 200 : 422, status);
      });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/apply') {
      void readText(req, MANIFEST_LIMIT_BYTES).then((text) => {
        if (!text?.trim())
          return json(res, text === undefined ? 413 : 400, {
            error: `body: the YAML to apply, at most ${MANIFEST_LIMIT_BYTES} bytes`,
            field: 'body',
          });
        const { applied, status } = plane.applyManifest(text, url.searchParams.get('source') ?? '(applied)');
        return json(res, applied ? 200 : 422, status);
      });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/proxies')
      return json(
        res,
        200,
        plane.proxies.map((p) => ({
          name: p.spec.name,
          pid: p.spec.pid,
          namespace: p.spec.namespace,
          spiffe_id: p.spiffeId,
          labels: p.spec.labels,
          mtls_mode: p.mtlsMode(),
          listeners: p.ports,
        })),
      );
    if (req.method === 'GET' && parts[0] === 'proxies' && parts.length === 3) {
      const proxy = plane.proxy(parts[1]!);
      if (!proxy) return json(res, 404, { error: `no proxy named ${parts[1]}`, field: 'proxy' });
      return proxyRoute(plane, proxy, parts[2]!, url, res);
    }
    return json(res, 404, {
      error: `${req.method} ${url.pathname}: see GET /ready, /config, /proxies, /proxies/<name>/{stats,clusters,certs,config_dump}, POST /stage, POST /apply`,
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
