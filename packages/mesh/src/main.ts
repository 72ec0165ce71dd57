// The local data plane as a process: `node dist/main.js`, configured by MESH_PLAN (JSON: the
// repository root, the stage and every proxy with its ports, 0 for any free one), its admin endpoint
// on PORT, as the local stack starts it. Started with an IPC channel, it reports its admin port once
// every listener is open (GET /proxies names their ports) and takes AppMessages. Its standard output
// carries the access log and the control plane's messages.
import { onStopRequest, reportListening } from '@twin/service-kit/lifecycle';
import { startAdmin } from './admin';
import { isAppMessage } from './app-message';
import { DataPlane } from './data-plane';
import { formatProblem, MeshConfigError } from './errors';
import type { ProxySpec } from './proxy';

/** What the launcher hands the data plane process in MESH_PLAN. */
export interface DataPlanePlan {
  root: string;
  stage?: string;
  proxies: ProxySpec[];
}

async function main(): Promise<void> {
  const raw = process.env.MESH_PLAN;
  if (!raw) throw new Error('MESH_PLAN is not set (JSON: root, stage, proxies)');
  const port = Number(process.env.PORT ?? '15000');
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT: '${process.env.PORT}' is not a port`);
  const plan = JSON.parse(raw) as DataPlanePlan;
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const plane = await DataPlane.start({ root: plan.root, stage: plan.stage, proxies: plan.proxies, log });
  const admin = await startAdmin(plane, port);
  log(
    `mesh: ${plane.proxies.length} proxies, configuration v${plane.configStatus.version} (${plan.stage ?? 'no overlay'}), admin on http://127.0.0.1:${admin.port}`,
  );
  // Also when the launcher that started it dies without a word (its IPC channel closes).
  onStopRequest(() => void Promise.all([admin.close(), plane.stop()]).then(() => process.exit(0)));
  process.on('message', (message) => {
    if (!isAppMessage(message)) return;
    try {
      plane.setApp(message.proxy, message.address, message.pid);
      process.send?.(message);
    } catch (err) {
      log(`mesh: ${(err as Error).message}`);
    }
  });
  reportListening(admin.port);
}

main().catch((err: Error) => {
  const detail = err instanceof MeshConfigError ? err.problems.map(formatProblem).join('\n') : err.message;
  process.stderr.write(`mesh: cannot start: ${detail}\n`);
  process.exit(1);
});
