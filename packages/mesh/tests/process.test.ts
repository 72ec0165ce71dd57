import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { startOtlpReceiver } from '../../../tests/support/otlp-receiver';
import type { ProxySpec } from '../src/proxy';
import { eventually, fakeApp, type FakeApp, REPO } from './support/mesh';

// The data plane as `npm start` runs it: its own process (dist/main.js), configured by MESH_PLAN,
// its admin endpoint on PORT, spans over OTLP/HTTP to a collector stand-in.

describe('the data plane process', () => {
  let child: ChildProcess;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let apps: Record<string, FakeApp>;
  let admin: string;
  const output: string[] = [];
  const outbound = (proxy: string) => `http://127.0.0.1:${listeners[proxy]!.outbound.backend}`;
  let listeners: Record<string, { outbound: Record<string, number>; inbound?: number }>;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    apps = {
      'backend-v1-0': await fakeApp('backend', '1.0.0'),
      'backend-v2-0': await fakeApp('backend', '2.0.0'),
    };
    const backend = (name: string, version: string): ProxySpec => ({
      name,
      namespace: 'mesh-demo',
      serviceAccount: 'backend',
      labels: { app: 'backend', version },
      pid: process.pid,
      inbound: { port: 0, appAddress: apps[name]!.address },
    });
    const plan = {
      root: REPO,
      stage: 'canary-50',
      proxies: [
        {
          name: 'frontend',
          namespace: 'mesh-demo',
          serviceAccount: 'frontend',
          labels: { app: 'frontend', version: 'v1' },
          // Its app starts after the data plane, as under npm start: an AppMessage names it then.
          inbound: { port: 0 },
          outbound: [{ host: 'backend', port: 0 }],
        },
        backend('backend-v1-0', 'v1'),
        backend('backend-v2-0', 'v2'),
      ],
    };
    // With an IPC channel, as the launcher starts it: the admin on a port the OS picks, reported back.
    child = spawn(process.execPath, ['dist/main.js'], {
      cwd: path.resolve(__dirname, '..'),
      env: {
        ...process.env,
        MESH_PLAN: JSON.stringify(plan),
        PORT: '0',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    for (const stream of [child.stdout!, child.stderr!])
      readline.createInterface({ input: stream }).on('line', (line) => output.push(line));
    const [listening] = (await once(child, 'message')) as [{ type: string; port: number }];
    expect(listening).toEqual({ type: 'listening', port: expect.any(Number) });
    admin = `http://127.0.0.1:${listening.port}`;
    expect((await fetch(`${admin}/ready`)).status).toBe(200);
    const proxies = (await (await fetch(`${admin}/proxies`)).json()) as {
      name: string;
      pid?: number;
      listeners: { outbound: Record<string, number>; inbound?: number };
    }[];
    listeners = Object.fromEntries(proxies.map((p) => [p.name, p.listeners]));
    expect(proxies.find((p) => p.name === 'backend-v1-0')?.pid).toBe(process.pid);
  }, 60_000);

  afterAll(async () => {
    if (child?.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await Promise.all(Object.values(apps ?? {}).map((app) => app.close()));
    await receiver?.close();
  });

  it('says what it runs, and records a client and a server span per call, the app getting the server span as parent', async () => {
    expect(output).toContainEqual(
      expect.stringMatching(
        /^mesh: 3 proxies, configuration v1 \(canary-50\), admin on http:\/\/127\.0\.0\.1:\d+$/,
      ),
    );
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const res = await fetch(`${outbound('frontend')}/version`, {
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    });
    expect(res.status).toBe(200);
    const [client, server] = await receiver.waitFor((spans) => {
      const c = spans.find((s) => s.traceId === traceId && s.service === 'frontend.mesh-demo');
      const s = spans.find((x) => x.traceId === traceId && x.service === 'backend.mesh-demo');
      return c && s ? [c, s] : undefined;
    });
    expect(client).toMatchObject({
      kind: 3,
      parentSpanId: 'b7ad6b7169203331',
      name: 'backend.mesh-demo.svc.cluster.local:80/*',
    });
    expect(server).toMatchObject({ kind: 2, parentSpanId: client.spanId });
    const app = Object.values(apps).find((a) => a.state.lastHeaders.traceparent?.includes(traceId))!;
    expect(app.state.lastHeaders.traceparent).toBe(`00-${traceId}-${server.spanId}-01`);
    expect(app.state.lastHeaders['x-b3-spanid']).toBe(server.spanId);
    expect(
      output.some((line) => line.startsWith('{') && JSON.parse(line).traceparent?.includes(traceId)),
    ).toBe(true);
  });

  it('applies a VirtualService as kubectl apply -f does, and the stage again replaces it', async () => {
    const demo = fs.readFileSync(path.join(REPO, 'k8s/demos/virtual-service-backend-all-pods.yaml'), 'utf8');
    const applied = await fetch(`${admin}/apply?source=k8s/demos/virtual-service-backend-all-pods.yaml`, {
      method: 'POST',
      body: demo,
    });
    expect(applied.status).toBe(200);
    const dump = (await (await fetch(`${admin}/proxies/frontend/config_dump`)).json()) as {
      clusters: { name: string; hosts: unknown[] }[];
    };
    const outboundClusters = (clusters: { name: string; hosts?: unknown[] }[]) =>
      clusters.filter((c) => c.name.startsWith('outbound|'));
    expect(outboundClusters(dump.clusters).map((c) => c.name)).toEqual([
      'outbound|80||backend.mesh-demo.svc.cluster.local',
    ]);
    expect(outboundClusters(dump.clusters)[0]!.hosts).toHaveLength(2);
    const refused = await fetch(`${admin}/apply`, {
      method: 'POST',
      body: 'kind: VirtualService\nmetadata: {name: x}\n',
    });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({
      refused: {
        problems: expect.arrayContaining([
          { file: '(applied)', field: 'apiVersion', message: expect.any(String) },
        ]),
      },
    });
    expect((await fetch(`${admin}/stage`, { method: 'POST', body: 'canary-10' })).status).toBe(200);
    const after = (await (await fetch(`${admin}/proxies/frontend/config_dump`)).json()) as {
      clusters: { name: string }[];
    };
    expect(
      outboundClusters(after.clusters)
        .map((c) => c.name)
        .sort(),
    ).toEqual([
      'outbound|80|v1|backend.mesh-demo.svc.cluster.local',
      'outbound|80|v2|backend.mesh-demo.svc.cluster.local',
    ]);
  });

  it('points a sidecar at an app that starts after it when told over IPC, and answers once it has', async () => {
    const inbound = async () => {
      const dump = (await (await fetch(`${admin}/proxies/frontend/config_dump`)).json()) as {
        clusters: { name: string; hosts: { address: string }[] }[];
      };
      return dump.clusters.find((c) => c.name.startsWith('inbound|'))?.hosts.map((h) => h.address);
    };
    expect(await inbound()).toEqual([]);
    const app = await fakeApp('frontend', '1.0.0');
    try {
      child.send({ type: 'app', proxy: 'nope', address: app.address });
      const message = { type: 'app', proxy: 'frontend', address: app.address, pid: 4242 };
      child.send(message);
      const [answer] = (await once(child, 'message')) as [unknown];
      expect(answer).toEqual(message);
      await eventually(async () => output.includes('mesh: no proxy named nope'), 10_000, 'the refusal');
      expect(await inbound()).toEqual([app.address]);
      const proxies = (await (await fetch(`${admin}/proxies`)).json()) as { name: string; pid?: number }[];
      expect(proxies.find((p) => p.name === 'frontend')?.pid).toBe(4242);
    } finally {
      await app.close();
    }
  });

  it('stops on SIGTERM with exit code 0', async () => {
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
