import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import {
  alive,
  ANY_PORTS,
  childrenOf,
  killGroup,
  listeningAddresses,
  MAIN,
  ownStackFile,
  readyRows,
  type RunningStack,
  startStackProcess,
  waitForOutput,
  waitGone,
} from './launcher';

/** The launcher's environment in these tests: a stack file of its own, never the checkout's. */
const launcherEnv = (env: Record<string, string> = {}) => ({
  ...process.env,
  LOCAL_STACK_FILE: ownStackFile(),
  ...env,
});

describe('npm start (local/dist/main.js)', () => {
  it('starts the stack, serves the README walk-through, and stops cleanly on SIGTERM', async () => {
    const env = launcherEnv(ANY_PORTS);
    const cli = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const banner = await waitForOutput(cli, /Ctrl-C stops everything/, 60_000);
      const rows = readyRows(banner);
      const frontend = rows.find((row) => row.name === 'frontend')?.url;
      expect(frontend).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      // The record names the ports the servers listen on, as the ready table does.
      const record = JSON.parse(readFileSync(env.LOCAL_STACK_FILE, 'utf8')) as {
        endpoints: Array<{ name: string; url: string }>;
      };
      expect(record.endpoints).toEqual(rows.map(({ name, url }) => ({ name, url })));

      const created = await fetch(`${frontend}/api/products`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"name":"Laptop","price":999.99}',
      });
      expect(created.status).toBe(201);
      const product = (await created.json()) as { id: string };
      const list = (await (await fetch(`${frontend}/api/products`)).json()) as {
        items: Array<{ id: string }>;
      };
      expect(list.items.map((item) => item.id)).toContain(product.id);
      // Through the mesh: the ingress gateway, the frontend's sidecar, a backend pod of v1 or v2.
      expect(await (await fetch(`${frontend}/api/version`)).json()).toEqual({
        service: 'backend',
        version: expect.stringMatching(/^[12]\.0\.0$/),
      });
      expect(banner).toMatch(/^ +backend-v2-0 +http:\/\/127\.0\.0\.1:\d+ +pid \d+ /m);

      // The services' spans reach the launcher's trace store, which answers Jaeger's query API.
      const jaeger = /^ +jaeger +(http:\/\/127\.0\.0\.1:\d+) /m.exec(banner)?.[1];
      expect(jaeger).toBeDefined();
      const deadline = Date.now() + 30_000;
      let services: unknown;
      while (Date.now() < deadline) {
        services = ((await (await fetch(`${jaeger}/api/services`)).json()) as { data: string[] }).data;
        if (Array.isArray(services) && services.length === 5) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // The apps' spans, and the sidecars' under Istio's names: <app>.<namespace>.
      expect(services).toEqual([
        'backend',
        'backend.mesh-demo',
        'frontend',
        'frontend.mesh-demo',
        'istio-ingressgateway.istio-system',
      ]);
      // Bad input to the trace store gets clear 4xx answers, and the launcher carries on.
      const post = (body: string, type = 'application/json') =>
        fetch(`${jaeger}/v1/traces`, { method: 'POST', headers: { 'content-type': type }, body });
      expect((await post('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"x"}]}]}]}')).status).toBe(
        400,
      );
      expect((await post('\u0000', 'application/x-protobuf')).status).toBe(415);
      expect((await post(`{"pad":"${'x'.repeat(5 * 2 ** 20)}"}`)).status).toBe(413);
      expect((await fetch(`${jaeger}/api/traces/${'f'.repeat(32)}`)).status).toBe(404);
      expect((await fetch(`${jaeger}/api/services`)).status).toBe(200);
      expect(cli.exitCode).toBeNull();

      // Three backend pods, lambda, thumbnailer, the data plane and the frontend.
      const children = childrenOf(cli.pid!);
      expect(children).toHaveLength(7);
      // Nothing is reachable from the network unless --host says so.
      const listening = rows.map((row) => listeningAddresses(Number(new URL(row.url).port)));
      expect(listening).toHaveLength(10);
      for (const addresses of listening) expect(addresses).toEqual([expect.stringMatching(/^127\.0\.0\.1:/)]);
      const started = Date.now();
      const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));
      cli.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(children.filter(alive)).toEqual([]);
      expect(existsSync(env.LOCAL_STACK_FILE)).toBe(false);
    } finally {
      cli.kill('SIGKILL');
    }
  }, 90_000);

  it('with --host 0.0.0.0 the apps, stores and gateway listen on all interfaces; URLs stay on loopback', async () => {
    let stack: RunningStack | undefined;
    try {
      stack = await startStackProcess('node', { HOST: '192.0.2.1' }, ['--host', '0.0.0.0']);
      for (const row of stack.rows) {
        expect(row.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        const port = Number(new URL(row.url).port);
        // The data plane's admin stays on loopback, as Envoy's admin in a pod.
        const host = row.name === 'mesh' ? '127.0.0.1' : '0.0.0.0';
        expect([row.name, listeningAddresses(port)]).toEqual([row.name, [`${host}:${port}`]]);
      }
      expect((await fetch(`${stack.rows[0]?.url}/api/version`)).status).toBe(200);
      process.kill(stack.launcher, 'SIGTERM');
      expect(await waitGone(stack.pids, 40_000)).toEqual([]);
    } finally {
      killGroup(stack);
    }
  }, 150_000);

  it.each([
    [['--frontend-port', 'eighty'], "--frontend-port: 'eighty' is not a port"],
    [['--thumbnails=cloud'], "--thumbnails: 'cloud' is not one of mesh, lambda, both"],
    [['--frontned-port', '1'], "Unknown option '--frontned-port'"],
    [['--canary', '25'], "--canary: '25' is not one of 10, 50, 100"],
    [['--lambda-canary', '20'], "--lambda-canary: '20' is not one of 10, 50, 100"],
    [['--replicas', 'v1=2,v3=1'], "--replicas: 'v3=1' is not v1=N or v2=N with N from 0 to 10"],
    [['--replicas', 'v1=0,v2=0'], '--replicas: at least one backend pod is needed'],
  ])('explains %j and exits 2', (args, message) => {
    let status: number | null = null;
    let stderr = '';
    try {
      execFileSync(process.execPath, [MAIN, ...args], { stdio: 'pipe', env: launcherEnv() });
    } catch (err) {
      ({ status } = err as { status: number });
      stderr = String((err as { stderr: Buffer }).stderr);
    }
    expect(status).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).toContain('Usage: npm start');
  });

  it('refuses --lambda-canary beside LAMBDA_VERSIONS_FILE, which would name other versions', () => {
    let status: number | null = null;
    let stderr = '';
    try {
      execFileSync(process.execPath, [MAIN, '--lambda-canary', '10'], {
        stdio: 'pipe',
        env: launcherEnv({ LAMBDA_VERSIONS_FILE: 'lambda/canary.json' }),
      });
    } catch (err) {
      ({ status } = err as { status: number });
      stderr = String((err as { stderr: Buffer }).stderr);
    }
    expect(status).toBe(2);
    expect(stderr).toContain('--lambda-canary publishes lambda/canary.json, and LAMBDA_VERSIONS_FILE');
  });

  it('names the problem when a port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      execFileSync(process.execPath, [MAIN], {
        env: launcherEnv({ ...ANY_PORTS, DYNAMODB_PORT: String(taken) }),
        stdio: 'pipe',
      });
      throw new Error('expected a failure');
    } catch (err) {
      expect((err as { status: number }).status).toBe(1);
      expect(String((err as { stderr: Buffer }).stderr)).toMatch(/port is taken.*EADDRINUSE|EADDRINUSE/s);
    } finally {
      blocker.close();
    }
  });
});
