// The local data plane: every proxy of the stack in one process, and the control plane's job done
// beside them, as istiod does it for Envoy: the workload certificates from the local CA, and the
// configuration loaded from k8s/istio (with the selected overlay) and pushed to every proxy. Edits to
// those files, or a new stage, reach the proxies within moments, no process restarted; a
// configuration that does not load is refused with its problems and the last good one stays in force.
import { type FSWatcher, watch } from 'chokidar';
import { once } from 'node:events';
import path from 'node:path';
import { LocalCa } from './ca';
import { formatProblem, MeshConfigError, type ConfigProblem } from './errors';
import YAML from 'yaml';
import { applyResources, ISTIO_DIR, loadMeshConfig, type MeshConfig, OVERLAYS_DIR } from './load';
import { type MeshSnapshot, MeshProxy, type MeshWorkload, type ProxySpec } from './proxy';
import { exporterFromEnv, ProxyTracer } from './tracing';

export interface DataPlaneOptions {
  /** The repository root, holding k8s/. */
  root: string;
  /** The overlay under k8s/overlays/ in force, e.g. canary-10; none: k8s/istio as written. */
  stage?: string;
  proxies: ProxySpec[];
  /** Where a line goes: access log lines (JSON) and the control plane's messages. */
  log: (line: string) => void;
  /** Follow edits of the files (default true). */
  watch?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** The configuration in force and the last refusal, as the admin endpoint reports it. */
export interface ConfigStatus {
  stage?: string;
  version: number;
  appliedAt: string;
  /** The last configuration refused since the one in force, if any. */
  refused?: { at: string; stage?: string; problems: ConfigProblem[] };
}

const RELOAD_DEBOUNCE_MS = 100;

export class DataPlane {
  readonly proxies: MeshProxy[] = [];
  private config!: MeshConfig;
  private version = 0;
  private status!: ConfigStatus;
  private ca!: LocalCa;
  private watcher?: FSWatcher;
  private debounce?: NodeJS.Timeout;
  /** Resources applied over the files (`kubectl apply -f` of a demo), until the next stage change. */
  private applied: { source: string; resources: unknown[] }[] = [];

  private constructor(private readonly options: DataPlaneOptions) {}

  /**
   * Loads the configuration, issues the certificates, opens every proxy's listeners.
   * @throws MeshConfigError when the configuration does not load: the data plane does not start without one.
   */
  static async start(options: DataPlaneOptions): Promise<DataPlane> {
    const plane = new DataPlane(options);
    plane.config = loadMeshConfig({ root: options.root, stage: options.stage });
    plane.ca = await LocalCa.create();
    const certificates = new Map<string, Awaited<ReturnType<LocalCa['issue']>>>();
    for (const spec of options.proxies) {
      const identity = `${spec.namespace}/${spec.serviceAccount}`;
      if (!certificates.has(identity))
        certificates.set(identity, await plane.ca.issue(spec.namespace, spec.serviceAccount));
    }
    const exporter = () => exporterFromEnv(options.env);
    for (const spec of options.proxies) {
      const tracer = new ProxyTracer(`${spec.labels.app ?? spec.name}.${spec.namespace}`, exporter());
      plane.proxies.push(
        new MeshProxy(
          spec,
          certificates.get(`${spec.namespace}/${spec.serviceAccount}`)!,
          tracer,
          options.log,
        ),
      );
    }
    try {
      for (const proxy of plane.proxies) await proxy.start();
      plane.push(plane.config);
      if (options.watch !== false) await plane.follow();
    } catch (err) {
      await plane.stop();
      throw err;
    }
    return plane;
  }

  /** The root certificate proxies trust, PEM. */
  get rootPem(): string {
    return this.ca.rootPem;
  }

  get configStatus(): ConfigStatus {
    return this.status;
  }

  get meshConfig(): MeshConfig {
    return this.config;
  }

  private workloads(): MeshWorkload[] {
    return this.proxies.map(({ spec, ports }) => ({
      name: spec.name,
      namespace: spec.namespace,
      serviceAccount: spec.serviceAccount,
      labels: spec.labels,
      inboundAddress: ports.inbound === undefined ? undefined : `127.0.0.1:${ports.inbound}`,
    }));
  }

  private push(config: MeshConfig): void {
    this.config = config;
    this.version += 1;
    const snapshot: MeshSnapshot = {
      version: this.version,
      config,
      workloads: this.workloads(),
      rootPem: this.ca.rootPem,
    };
    for (const proxy of this.proxies) proxy.apply(snapshot);
    this.status = { stage: config.stage, version: this.version, appliedAt: new Date().toISOString() };
  }

  /**
   * Loads the configuration again, for `stage` (default: the one in force), and pushes it to every
   * proxy; on any problem keeps the configuration in force.
   * @returns whether it was applied, and the status afterwards (with the problems when refused).
   */
  reload(stage = this.config.stage): { applied: boolean; status: ConfigStatus } {
    return this.attempt(stage, () => {
      let config = loadMeshConfig({ root: this.options.root, stage });
      for (const { source, resources } of this.applied) config = applyResources(config, resources, source);
      return config;
    });
  }

  /**
   * Moves to another stage, as applying that overlay would: resources applied by hand give way to it.
   * @returns as {@link reload}.
   */
  setStage(stage: string): { applied: boolean; status: ConfigStatus } {
    const result = this.attempt(stage, () => loadMeshConfig({ root: this.options.root, stage }));
    if (result.applied) this.applied = [];
    return result;
  }

  /**
   * Applies resources (YAML, one or more documents) over the configuration in force, as `kubectl
   * apply -f` does: they replace the resources of the same kind, namespace and name until the next
   * stage change.
   * @returns as {@link reload}; a text that is not YAML is refused with one problem naming `source`.
   */
  applyManifest(text: string, source: string): { applied: boolean; status: ConfigStatus } {
    return this.attempt(this.config.stage, () => {
      const docs = YAML.parseAllDocuments(text);
      const error = docs.flatMap((doc) => doc.errors)[0];
      if (error)
        throw new MeshConfigError([
          { file: source, field: '', message: `is not valid YAML: ${error.message.split('\n')[0]}` },
        ]);
      const resources = docs
        .map((doc) => doc.toJS() as unknown)
        .filter((r) => r !== null && typeof r === 'object');
      const config = applyResources(this.config, resources, source);
      this.applied.push({ source, resources });
      return config;
    });
  }

  private attempt(
    stage: string | undefined,
    load: () => MeshConfig,
  ): { applied: boolean; status: ConfigStatus } {
    try {
      this.push(load());
      this.options.log(
        `mesh: configuration v${this.version} in force (${stage ? `stage ${stage}` : 'no overlay'})`,
      );
      return { applied: true, status: this.status };
    } catch (err) {
      if (!(err instanceof MeshConfigError)) throw err;
      this.status = {
        ...this.status,
        refused: { at: new Date().toISOString(), stage, problems: err.problems },
      };
      this.options.log(`mesh: configuration refused, v${this.version} stays in force:`);
      for (const problem of err.problems) this.options.log(`mesh:   ${formatProblem(problem)}`);
      return { applied: false, status: this.status };
    }
  }

  /** Watches k8s/istio and k8s/overlays; every change reloads, a burst of changes once. */
  private async follow(): Promise<void> {
    const { root } = this.options;
    this.watcher = watch([path.join(root, ISTIO_DIR), path.join(root, OVERLAYS_DIR)], {
      ignoreInitial: true,
    });
    this.watcher.on('all', () => {
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => this.reload(), RELOAD_DEBOUNCE_MS);
    });
    await once(this.watcher, 'ready');
  }

  /**
   * Tells proxy `name`'s sidecar where its app listens (`address`, host:port) and its PID: for an
   * app that starts after the data plane. See {@link MeshProxy.setApp}.
   * @throws Error when there is no such proxy, or it has no inbound listener.
   */
  setApp(name: string, address: string, pid?: number): void {
    const proxy = this.proxy(name);
    if (!proxy) throw new Error(`no proxy named ${name}`);
    proxy.setApp(address, pid);
  }

  proxy(name: string): MeshProxy | undefined {
    return this.proxies.find((p) => p.spec.name === name);
  }

  async stop(): Promise<void> {
    clearTimeout(this.debounce);
    await this.watcher?.close();
    await Promise.all(this.proxies.map((proxy) => proxy.close()));
  }
}
