// The launcher picks no port ahead of time: each server of the stack (dynalite, s3rver, the trace
// store, the services, the Lambda emulator, the data plane's listeners) binds port 0 itself and the
// launcher reads the port back. A port picked free and handed on is taken here (port-thief.cjs),
// deterministically, the moment the launcher lets it go, as another process on a busy machine may.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { DEFAULT_STACK_ROWS, killGroup, type RunningStack, startStackProcess, waitGone } from './launcher';

const THIEF = path.join(__dirname, 'fixtures', 'port-thief.cjs');

describe('ports the launcher does not pick ahead of time', () => {
  let stack: RunningStack | undefined;
  afterEach(() => {
    killGroup(stack);
    stack = undefined;
  });

  it('the thief takes a port that was picked free and given up', () => {
    const pickThenBind = `
      const net = require('node:net');
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address();
        probe.close(() =>
          net.createServer()
            .once('error', (err) => { console.log(err.code); process.exit(0); })
            .listen(port, '127.0.0.1', () => { console.log('bound'); process.exit(0); }),
        );
      });`;
    const output = execFileSync(process.execPath, ['--require', THIEF, '-e', pickThenBind], {
      encoding: 'utf8',
    });
    expect(output.trim()).toBe('EADDRINUSE');
  });

  it('the whole stack, mesh included, starts and serves with every port taken the moment it is given up', async () => {
    stack = await startStackProcess('node', {}, [], ['--require', THIEF]);
    const url = (name: string) => stack!.rows.find((row) => row.name === name)?.url;
    expect(stack.rows.map((row) => row.name)).toEqual(DEFAULT_STACK_ROWS);
    // The ingress gateway, the frontend's sidecar and app, a backend pod: every hop on a port read back.
    const version = await fetch(`${url('frontend')}/api/version`);
    expect(version.status).toBe(200);
    expect(await version.json()).toEqual({
      service: 'backend',
      version: expect.stringMatching(/^[12]\.0\.0$/),
    });
    expect((await fetch(`${url('lambda')}/hello`)).status).toBe(200);
    // The frontend's app started after the data plane; its sidecar was then pointed at it.
    const mesh = url('mesh');
    const proxies = (await (await fetch(`${mesh}/proxies`)).json()) as Array<{ name: string; pid?: number }>;
    const frontendPid = proxies.find((proxy) => proxy.name === 'frontend')?.pid;
    expect(stack.children).toContain(frontendPid);
    const dump = (await (await fetch(`${mesh}/proxies/frontend/config_dump`)).json()) as {
      clusters: Array<{ name: string; hosts: Array<{ address: string }> }>;
    };
    expect(dump.clusters.find((cluster) => cluster.name.startsWith('inbound|'))?.hosts).toEqual([
      { pod: 'frontend', address: expect.stringMatching(/^127\.0\.0\.1:\d+$/), tls: 'plaintext' },
    ]);
    process.kill(stack.launcher, 'SIGTERM');
    expect(await waitGone(stack.pids, 40_000)).toEqual([]);
  }, 150_000);
});
