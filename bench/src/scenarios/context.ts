import { type Bundles, buildBundles } from '../bundles';
import type { Cleanup } from '../cleanup';
import { sampleImages, type SampleImage } from '../images';
import { launchLocalStack, type LocalStack, seedProducts } from '../local-stack';
import { BENCH_MESH } from '../mesh';
import { type ServerHandle, spawnOtlpSink } from '../servers';
import type { Settings } from '../settings';
import type { StackRunnerOptions } from '../stack-runner';

/**
 * The local stacks the scenarios run against:
 * - `plain`: what `npm start` runs, tracing off (instrumentation loaded, no exporter);
 * - `traced`: the same exporting spans over OTLP/HTTP to the bench's sink, which discards them;
 * - `stored`: the same exporting spans to the launcher's own trace store, as `npm start` does;
 * - `lambda`: upload events go to the Lambda imageProcessor instead of the thumbnailer, and the
 *   emulator's invocation log lines (LOG_LEVEL=info) come back with their billed durations;
 * - `mesh`: what `npm start` runs by default, the mesh (ingress gateway, a sidecar per pod, the local
 *   data plane executing k8s/istio), laid out as {@link BENCH_MESH}: one backend pod; tracing off;
 * - `scale-to-zero`: the Lambda emulator reclaims environments idle for
 *   `settings.burst.idleTimeoutSeconds` (LAMBDA_IDLE_TIMEOUT_SECONDS), so that a burst after a quiet
 *   spell starts cold, as on Lambda, and its invocation records come back as with `lambda`; the other
 *   stacks keep the emulator's default (300 s), so their steady loads run on warm environments.
 */
export type StackKind = 'plain' | 'traced' | 'stored' | 'lambda' | 'mesh' | 'scale-to-zero';

/**
 * What scenarios share: settings, progress output, and the parts they run against, each started
 * once on first use (the stacks seeded with `settings.products` products) and stopped at cleanup
 * or by `release`.
 */
export class ScenarioContext {
  /** By kind and instance, `plain#0`. */
  private readonly stacks = new Map<
    string,
    { kind: StackKind; instance: number; stack: Promise<LocalStack> }
  >();
  private bundlesBuilt?: Promise<Bundles>;
  private sinkStarted?: Promise<ServerHandle>;
  private imagesMade?: Promise<SampleImage[]>;

  constructor(
    readonly settings: Settings,
    readonly log: (line: string) => void,
    readonly cleanup: Cleanup,
  ) {}

  /**
   * The stack of this kind, started on first use. `instance` 1, 2... are further stacks of the same
   * kind, started on their own: the same configuration in other processes.
   */
  stack(kind: StackKind, instance = 0): Promise<LocalStack> {
    const key = `${kind}#${instance}`;
    let entry = this.stacks.get(key);
    if (!entry) {
      entry = { kind, instance, stack: this.launch(kind, instance) };
      this.stacks.set(key, entry);
    }
    return entry.stack;
  }

  private async launch(kind: StackKind, instance: number): Promise<LocalStack> {
    this.log(`  (starting the ${kind} local stack${instance > 0 ? ` #${instance + 1}` : ''})`);
    const options: StackRunnerOptions = { thumbnails: 'mesh', logLevel: this.settings.logLevel };
    if (kind === 'traced') options.env = { OTEL_EXPORTER_OTLP_ENDPOINT: (await this.sink()).url };
    if (kind === 'stored') options.traceStorePort = 0;
    if (kind === 'lambda')
      Object.assign(options, { thumbnails: 'lambda', logLevel: 'info', forwardLogs: true });
    if (kind === 'mesh') options.mesh = BENCH_MESH;
    if (kind === 'scale-to-zero')
      Object.assign(options, {
        env: { LAMBDA_IDLE_TIMEOUT_SECONDS: String(this.settings.burst.idleTimeoutSeconds) },
        logLevel: 'info',
        forwardLogs: true,
      });
    const stack = await launchLocalStack(this.cleanup, options);
    await seedProducts(stack.url('frontend'), this.settings.products);
    return stack;
  }

  /**
   * Stops every stack but the first of each kind in `keep`, so that what the next scenario measures
   * has the CPUs to itself.
   */
  async release(keep: readonly StackKind[]): Promise<void> {
    for (const [key, { kind, instance, stack }] of [...this.stacks]) {
      if (instance === 0 && keep.includes(kind)) continue;
      this.stacks.delete(key);
      await (await stack).stop();
    }
  }

  /** The OTLP sink the `traced` stack exports to. */
  sink(): Promise<ServerHandle> {
    this.sinkStarted ??= spawnOtlpSink(this.cleanup);
    return this.sinkStarted;
  }

  /** The functions' bundles, built as `sam build` builds them. */
  bundles(): Promise<Bundles> {
    this.bundlesBuilt ??= buildBundles(this.cleanup);
    return this.bundlesBuilt;
  }

  /** The sample JPEGs every thumbnail path gets. */
  images(): Promise<SampleImage[]> {
    this.imagesMade ??= sampleImages(this.settings.images);
    return this.imagesMade;
  }
}
