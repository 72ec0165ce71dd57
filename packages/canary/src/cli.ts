// npm run canary -- --target local|compose|k8s|lambda|aws: the judge from the command line.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '@twin/service-kit/cli';
import { CommandError } from './commands';
import { DEFAULT_SETTINGS, errorRateBound, type LatencyMargin } from './judge';
import { LambdaTarget } from './lambda-target';
import { MeshTarget } from './mesh-target';
import { JUDGED_STAGES, runCanary, type RunSettings } from './run';
import type { CanaryTarget } from './target';

const ROOT = path.resolve(__dirname, '../../..');
const TARGETS = ['local', 'compose', 'k8s', 'lambda', 'aws'] as const;
type TargetName = (typeof TARGETS)[number];

/** The fewest requests per version --min-requests may ask for: fewer bound nothing worth judging. */
const MIN_REQUESTS_FLOOR = 20;

const USAGE = `Usage: npm run canary -- --target local|compose|k8s|lambda|aws [options]

Walks a canary through its stages, 10% -> 50% -> 100% of the traffic. At 10% and at 50% it sends
requests until the baseline and the canary have each served --min-requests, compares them and prints
the numbers, then goes on, or rolls the canary back (0%) and stops:

  errors   Fisher's exact test, one-sided: does the canary fail more often than the baseline? Effect
           size: the difference of the error rates with its 95% interval (Newcombe).
  latency  Mann-Whitney U test, one-sided, on the successful requests: is the canary slower? Effect
           size: the share of (canary, baseline) pairs where the canary was slower, rank-biserial r.
           It rolls back only when the canary's median also exceeds the baseline's by the margin.

Targets, and how each moves the traffic:
  local    npm start's mesh: scripts/promote.sh --target local STAGE (the local data plane)
  compose  docker compose with Envoy: scripts/promote.sh --target compose STAGE
  k8s      Istio: scripts/promote.sh --target k8s STAGE (the stage's VirtualService)
  lambda   npm start's Lambda emulator: UpdateAlias on the alias (AdditionalVersionWeights)
  aws      AWS Lambda: aws lambda update-alias --routing-config ...
  The mesh's load is GET $BASE_URL/api/version; requests and 5xx per version come from the frontend
  sidecar's counters of each subset. The Lambda load invokes the alias with lambda/events/version.json;
  Lambda names the version that ran each invocation.

Options:
  --target T            one of the targets above (required)
  --alpha A             significance level of each test (default ${DEFAULT_SETTINGS.alpha})
  --min-requests N      requests, and successful ones, each version needs for a verdict, at least
                        ${MIN_REQUESTS_FLOOR} (default ${DEFAULT_SETTINGS.minRequests}: with none failing, ${DEFAULT_SETTINGS.minRequests} requests bound an error rate
                        below ${(100 * errorRateBound(DEFAULT_SETTINGS.minRequests)).toFixed(1)}% at 95% confidence; below it, no verdict)
  --max-requests N      requests one stage may send at most (default 3000); short of the minimum by
                        then: no verdict, the traffic stays where it is (exit 3)
  --latency-margin M    how much slower the canary's median may be: 25% (default) or 100ms
  --concurrency N       requests in flight (default 4)
  --timeout S           seconds per request (default 10)
  --versions B,C        APP_VERSION of v1 and v2 on the mesh (default 1.0.0,2.0.0)
  --function NAME       the function (default ProductsFunction; on AWS its deployed name)
  --alias NAME          its alias (default live)
  --baseline-version V, --canary-version V
                        the versions to compare (default: where the alias points, and its
                        additional version)
  --dry-run             print what would be run at each stage; send and change nothing
  -h, --help            show this help

Environment:
  BASE_URL                 the frontend (default http://localhost:8080)
  MESH_ADMIN_URL           the local data plane's admin endpoint (default http://localhost:15000)
  KUBECTL, NAMESPACE       kubectl command and the app namespace (default kubectl, mesh-demo)
  COMPOSE                  docker compose command (default "docker compose")
  AWS_ENDPOINT_URL_LAMBDA  the emulator's Lambda API (default http://localhost:3000)
  AWS_CLI                  the AWS CLI command (default aws)

Exit status: 0 promoted; 1 rolled back; 2 bad usage; 3 no verdict (too small a sample); 4 a shift or a
count failed (the message says which command).`;

function wholeNumber(text: string, name: string, min: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min)
    throw new UsageError(`${name}: '${text}' is not a whole number of at least ${min}`);
  return Number(text);
}

/** `25%` or `100ms` (also `100`, in ms). */
export function parseLatencyMargin(text: string): LatencyMargin {
  const m = /^(\d+(?:\.\d+)?)\s*(%|ms)?$/.exec(text.trim());
  if (!m)
    throw new UsageError(`--latency-margin: '${text}' is not a share such as 25% or a time such as 100ms`);
  return m[2] === '%' ? { kind: 'ratio', value: Number(m[1]) / 100 } : { kind: 'ms', value: Number(m[1]) };
}

export interface CliRun {
  target: CanaryTarget;
  settings: RunSettings;
  dryRun: boolean;
}

/** Reads the arguments and the environment. @throws UsageError naming the option at fault. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliRun | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        target: { type: 'string' },
        alpha: { type: 'string' },
        'min-requests': { type: 'string' },
        'max-requests': { type: 'string' },
        'latency-margin': { type: 'string' },
        concurrency: { type: 'string' },
        timeout: { type: 'string' },
        versions: { type: 'string' },
        function: { type: 'string' },
        alias: { type: 'string' },
        'baseline-version': { type: 'string' },
        'canary-version': { type: 'string' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const target = values.target as TargetName | undefined;
  if (!target) throw new UsageError(`--target: which twin? ${TARGETS.join(', ')}`);
  if (!TARGETS.includes(target))
    throw new UsageError(`--target: '${target}' is not one of ${TARGETS.join(', ')}`);
  const alpha = Number(values.alpha ?? DEFAULT_SETTINGS.alpha);
  if (!/^0?\.\d+$/.test(values.alpha ?? '0.01') || !(alpha > 0 && alpha < 1))
    throw new UsageError(`--alpha: '${values.alpha}' is not a number between 0 and 1`);
  const minRequests = wholeNumber(
    values['min-requests'] ?? String(DEFAULT_SETTINGS.minRequests),
    '--min-requests',
    MIN_REQUESTS_FLOOR,
  );
  const maxRequests = wholeNumber(values['max-requests'] ?? '3000', '--max-requests', 1);
  const settings: RunSettings = {
    alpha,
    minRequests,
    maxRequests,
    batch: Math.max(50, minRequests),
    latencyMargin: values['latency-margin']
      ? parseLatencyMargin(values['latency-margin'])
      : DEFAULT_SETTINGS.latencyMargin,
  };
  const concurrency = wholeNumber(values.concurrency ?? '4', '--concurrency', 1);
  const timeoutMs = wholeNumber(values.timeout ?? '10', '--timeout', 1) * 1000;
  for (const name of ['baseline-version', 'canary-version'] as const) {
    const v = values[name];
    if (v !== undefined && !/^[1-9]\d*$/.test(v))
      throw new UsageError(`--${name}: '${v}' is not a published version number (1, 2, ...)`);
  }
  if (target === 'lambda' || target === 'aws') {
    return {
      dryRun: values['dry-run'] ?? false,
      settings,
      target: new LambdaTarget({
        kind: target,
        endpoint: (env.AWS_ENDPOINT_URL_LAMBDA || 'http://localhost:3000').replace(/\/$/, ''),
        aws: (env.AWS_CLI || 'aws').split(/\s+/),
        functionName: values.function ?? 'ProductsFunction',
        alias: values.alias ?? 'live',
        ...(values['baseline-version'] ? { baselineVersion: values['baseline-version'] } : {}),
        ...(values['canary-version'] ? { canaryVersion: values['canary-version'] } : {}),
        eventFile: path.join(ROOT, 'lambda/events/version.json'),
        concurrency,
        timeoutMs,
      }),
    };
  }
  for (const name of ['function', 'alias', 'baseline-version', 'canary-version'] as const)
    if (values[name] !== undefined) throw new UsageError(`--${name} is for --target lambda or aws`);
  const versions = (values.versions ?? '1.0.0,2.0.0').split(',');
  if (versions.length !== 2 || versions.some((v) => !v.trim()))
    throw new UsageError(
      `--versions: '${values.versions}' is not two versions, v1's and v2's, e.g. 1.0.0,2.0.0`,
    );
  return {
    dryRun: values['dry-run'] ?? false,
    settings,
    target: new MeshTarget({
      kind: target,
      baseUrl: env.BASE_URL || 'http://localhost:8080',
      adminUrl: env.MESH_ADMIN_URL || 'http://localhost:15000',
      kubectl: (env.KUBECTL || 'kubectl').split(/\s+/),
      compose: (env.COMPOSE || 'docker compose').split(/\s+/),
      namespace: env.NAMESPACE || 'mesh-demo',
      versions: { baseline: versions[0]!.trim(), canary: versions[1]!.trim() },
      concurrency,
      timeoutMs,
      root: ROOT,
    }),
  };
}

/** What --dry-run prints: the target, and per stage what would be run. */
export function dryRunPlan({ target, settings }: CliRun): string[] {
  return [
    `canary (dry run: nothing is sent, nothing changes): ${target.description}`,
    ...target.plan(),
    ...JUDGED_STAGES.flatMap((stage) => [
      `stage ${stage}: ${target.shiftCommand(stage)}`,
      `  then requests in rounds of ${settings.batch} until each version has served ${settings.minRequests} (at most ${settings.maxRequests}), and judge`,
    ]),
    `stage 100: ${target.shiftCommand(100)}`,
    `on a rollback: ${target.shiftCommand(0)}`,
  ];
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const print = (line: string) => process.stdout.write(`${line}\n`);
  let cli: CliRun | 'help';
  try {
    cli = parseCli(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`canary: ${err.message} (see --help)\n`);
    return 2;
  }
  if (cli === 'help') {
    print(USAGE);
    return 0;
  }
  if (cli.dryRun) {
    dryRunPlan(cli).forEach(print);
    return 0;
  }
  try {
    const { outcome } = await runCanary(cli.target, cli.settings, print);
    return { promoted: 0, 'rolled-back': 1, 'no-verdict': 3 }[outcome];
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    process.stderr.write(`canary: ${err.message}\n`);
    return 4;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
