// The serverless twin's canary: two published versions of a function behind its alias, traffic
// shifted by the alias's AdditionalVersionWeights as CodeDeploy shifts it. The load invokes the alias
// with API Gateway's event for GET /version, and Lambda says which version ran each invocation
// (X-Amz-Executed-Version; ExecutedVersion in the AWS CLI's answer), failed ones included, so every
// count comes from the judge's own requests.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { aliasPath, invokePath } from '@twin/lambda/dist/emulator/paths';
import { CommandError, run, shellLine } from './commands';
import type { VersionObservation } from './judge';
import { drive, type Reply } from './load';
import type { CanaryTarget, Stage, StageProbe } from './target';

export type LambdaKind = 'lambda' | 'aws';

export interface LambdaTargetOptions {
  /** `lambda`: the emulator of npm start, over Lambda's REST API; `aws`: Lambda, through the AWS CLI. */
  kind: LambdaKind;
  /** The Lambda API of the emulator (AWS_ENDPOINT_URL_LAMBDA), kind lambda. */
  endpoint: string;
  /** The AWS CLI as a command (AWS_CLI, default aws), kind aws. */
  aws: string[];
  functionName: string;
  alias: string;
  /** Where the alias points when the judge starts, unless asked (GetAlias). */
  baselineVersion?: string;
  canaryVersion?: string;
  /** The API Gateway event each invocation sends (lambda/events/version.json). */
  eventFile: string;
  concurrency: number;
  /** Per request, ms. */
  timeoutMs: number;
}

interface AliasConfiguration {
  FunctionVersion: string;
  RoutingConfig?: { AdditionalVersionWeights?: Record<string, number> };
}

/** UpdateAlias's request for a stage: the baseline with the canary's weight, then the canary alone. */
export function aliasUpdate(stage: Stage, baseline: string, canary: string): AliasConfiguration {
  if (stage === 100) return { FunctionVersion: canary, RoutingConfig: { AdditionalVersionWeights: {} } };
  return {
    FunctionVersion: baseline,
    RoutingConfig: { AdditionalVersionWeights: stage === 0 ? {} : { [canary]: stage / 100 } },
  };
}

export class LambdaTarget implements CanaryTarget {
  readonly source =
    "every count from the judge's own invocations of the alias: the version that ran each one (Lambda's " +
    'ExecutedVersion), its function error or the 5xx statusCode it returned, and its latency';
  private baseline?: string;
  private canary?: string;

  constructor(private readonly options: LambdaTargetOptions) {
    this.baseline = options.baselineVersion;
    this.canary = options.canaryVersion;
  }

  get description(): string {
    const where =
      this.options.kind === 'lambda' ? `the Lambda emulator at ${this.options.endpoint}` : 'AWS Lambda';
    return (
      `${this.options.functionName} version ${this.canary ?? '<canary>'} against version ${this.baseline ?? '<baseline>'} ` +
      `behind the alias ${this.options.alias} (${where})`
    );
  }

  /** Invoke through the alias on the emulator. */
  private get invokeUrl(): string {
    return `${this.options.endpoint}${invokePath(this.options.functionName)}?Qualifier=${encodeURIComponent(this.options.alias)}`;
  }

  private awsArgv(args: string[]): string[] {
    return [...this.options.aws, 'lambda', ...args];
  }

  private updateArgv(stage: Stage): string[] {
    const update = aliasUpdate(stage, this.baseline ?? '<baseline>', this.canary ?? '<canary>');
    return this.awsArgv([
      ...(this.options.kind === 'lambda' ? ['--endpoint-url', this.options.endpoint] : []),
      'update-alias',
      '--function-name',
      this.options.functionName,
      '--name',
      this.options.alias,
      '--function-version',
      update.FunctionVersion,
      '--routing-config',
      JSON.stringify(update.RoutingConfig),
    ]);
  }

  shiftCommand(stage: Stage): string {
    return shellLine(this.updateArgv(stage));
  }

  plan(): string[] {
    const invoke =
      this.options.kind === 'lambda' ? `POST ${this.invokeUrl}` : shellLine(this.invokeArgv('<answer file>'));
    return [
      `load: ${invoke} with ${path.relative(process.cwd(), this.options.eventFile) || this.options.eventFile}, ` +
        `${this.options.concurrency} at a time`,
      'counts: the executed version, function error and statusCode of each invocation',
    ];
  }

  private invokeArgv(outFile: string): string[] {
    return this.awsArgv([
      'invoke',
      '--function-name',
      this.options.functionName,
      '--qualifier',
      this.options.alias,
      '--cli-binary-format',
      'raw-in-base64-out',
      '--payload',
      `fileb://${this.options.eventFile}`,
      outFile,
    ]);
  }

  private async getAlias(): Promise<AliasConfiguration> {
    if (this.options.kind === 'aws') {
      const argv = this.awsArgv([
        'get-alias',
        '--function-name',
        this.options.functionName,
        '--name',
        this.options.alias,
      ]);
      return JSON.parse((await run(argv, { timeoutMs: 60_000 })).stdout) as AliasConfiguration;
    }
    const url = `${this.options.endpoint}${aliasPath(this.options.functionName, this.options.alias)}`;
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new CommandError(
        `the Lambda emulator did not answer at ${this.options.endpoint} (is npm start running?): ${(err as Error).message}`,
      );
    }
    const text = await response.text();
    if (!response.ok) throw new CommandError(`GetAlias ${url} answered ${response.status}: ${text}`);
    return JSON.parse(text) as AliasConfiguration;
  }

  async prepare(): Promise<void> {
    const alias = await this.getAlias();
    this.baseline ??= alias.FunctionVersion;
    const additional = Object.keys(alias.RoutingConfig?.AdditionalVersionWeights ?? {});
    this.canary ??= additional[0];
    if (!this.canary)
      throw new CommandError(
        `the alias ${this.options.alias} routes to version ${alias.FunctionVersion} alone: name the canary with --canary-version`,
      );
    if (this.canary === this.baseline)
      throw new CommandError(
        `the canary and the baseline are both version ${this.canary}: name another with --canary-version`,
      );
  }

  async shift(stage: Stage): Promise<string[]> {
    const line = `+ ${this.shiftCommand(stage)}`;
    if (this.options.kind === 'aws') {
      await run(this.updateArgv(stage), { timeoutMs: 60_000 });
      return [line];
    }
    const url = `${this.options.endpoint}${aliasPath(this.options.functionName, this.options.alias)}`;
    const response = await fetch(url, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(aliasUpdate(stage, this.baseline!, this.canary!)),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (!response.ok) throw new CommandError(`UpdateAlias ${url} answered ${response.status}: ${text}`);
    return [line, `alias ${this.options.alias}: ${stageText(stage, this.baseline!, this.canary!)}`];
  }

  private async invokeEmulator(event: string): Promise<Omit<Reply, 'latencyMs'>> {
    try {
      const response = await fetch(this.invokeUrl, {
        method: 'POST',
        body: event,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const payload = await response.text();
      const version = response.headers.get('x-amz-executed-version') ?? undefined;
      return classify(
        response.status,
        version,
        response.headers.get('x-amz-function-error') ?? undefined,
        payload,
      );
    } catch (err) {
      return { failed: true, outcome: (err as Error).name === 'TimeoutError' ? 'timed out' : 'no answer' };
    }
  }

  private async invokeCli(dir: string, n: number): Promise<Omit<Reply, 'latencyMs'>> {
    const outFile = path.join(dir, `answer-${n}.json`);
    try {
      const { stdout } = await run(this.invokeArgv(outFile), { timeoutMs: this.options.timeoutMs });
      const answer = JSON.parse(stdout) as {
        StatusCode: number;
        ExecutedVersion?: string;
        FunctionError?: string;
      };
      return classify(
        answer.StatusCode,
        answer.ExecutedVersion,
        answer.FunctionError,
        await readFile(outFile, 'utf8'),
      );
    } catch (err) {
      return { failed: true, outcome: `no answer (${(err as Error).message.split('\n')[0]})` };
    }
  }

  async probe(): Promise<StageProbe> {
    const event = await readFile(this.options.eventFile, 'utf8');
    const replies: Reply[] = [];
    let sent = 0;
    const send =
      this.options.kind === 'lambda'
        ? () => this.invokeEmulator(event)
        : async () => {
            const dir = await mkdtemp(path.join(os.tmpdir(), 'canary-invoke-'));
            try {
              return await this.invokeCli(dir, (sent += 1));
            } finally {
              await rm(dir, { recursive: true, force: true });
            }
          };
    return {
      send: async (count) => {
        const batch = await drive(count, this.options.concurrency, send);
        replies.push(...batch);
        return batch;
      },
      observe: async () => {
        const observation = (version: string): VersionObservation => {
          const mine = replies.filter((r) => r.version === version);
          return {
            name: `version ${version}`,
            requests: mine.length,
            errors: mine.filter((r) => r.failed).length,
            latenciesMs: mine.filter((r) => !r.failed).map((r) => r.latencyMs),
          };
        };
        return { baseline: observation(this.baseline!), canary: observation(this.canary!) };
      },
    };
  }
}

/** What the alias does at a stage, in words. */
function stageText(stage: Stage, baseline: string, canary: string): string {
  if (stage === 100) return `version ${canary} takes all of the traffic`;
  if (stage === 0) return `version ${baseline} takes all of the traffic again (rolled back)`;
  return `version ${baseline} ${100 - stage}%, version ${canary} ${stage}%`;
}

/**
 * One invocation's outcome as API Gateway's caller would see it: a function error (502 there), or
 * the statusCode the function returned (a 5xx is a failure), attributed to the version that ran.
 */
function classify(
  invokeStatus: number,
  version: string | undefined,
  functionError: string | undefined,
  payload: string,
): Omit<Reply, 'latencyMs'> {
  const attributed = version ? { version } : {};
  if (invokeStatus !== 200) return { failed: true, outcome: `invoke ${invokeStatus}`, ...attributed };
  if (functionError) return { failed: true, outcome: `function error (${functionError})`, ...attributed };
  let statusCode: unknown;
  try {
    statusCode = (JSON.parse(payload) as { statusCode?: unknown }).statusCode;
  } catch {
    statusCode = undefined;
  }
  if (typeof statusCode !== 'number')
    return { failed: true, outcome: 'no statusCode in the answer', ...attributed };
  return { failed: statusCode >= 500, outcome: `statusCode ${statusCode}`, ...attributed };
}
