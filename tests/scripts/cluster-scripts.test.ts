import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runScript } from './support/run-script';

// The scripts that need a cluster (or Docker) run here in --dry-run, which renders and prints what
// they would apply, and with bad arguments. promote.sh also runs for real against a recording
// stand-in for kubectl apply (named as such), while the rendering is kubectl kustomize's own.

type Route = { destination: { subset: string }; weight: number };
type VirtualService = {
  kind: string;
  metadata: { name: string; labels: Record<string, string> };
  spec: { http: Array<{ name: string; route: Route[] }> };
};

const weightsOf = (service: VirtualService) =>
  service.spec.http.map((route) => route.route.map((r) => `${r.destination.subset}=${r.weight}`).join(' '));

describe('promote.sh', () => {
  it.each([
    ['10', 90, 10],
    ['canary-50', 50, 50],
    ['100', 0, 100],
    ['0', 100, 0],
  ])(
    '--dry-run %s prints only the backend VirtualService of the stage, with its weights',
    async (stage, v1, v2) => {
      const result = await runScript('promote.sh', ['--dry-run', stage]);
      expect(result.code).toBe(0);
      const overlay = `k8s/overlays/canary-${String(stage).replace('canary-', '')}`;
      expect(result.stdout).toContain(
        `# Would run: kubectl kustomize ${overlay} | kubectl apply -l traffic-split=backend -f -`,
      );
      const docs = parseAllDocuments(result.stdout)
        .map((doc) => doc.toJSON() as VirtualService | null)
        .filter((doc): doc is VirtualService => doc !== null);
      expect(docs.map((doc) => `${doc.kind}/${doc.metadata.name}`)).toEqual(['VirtualService/backend']);
      expect(docs[0]?.metadata.labels['traffic-split']).toBe('backend');
      expect(weightsOf(docs[0] as VirtualService)).toEqual([`v1=${v1} v2=${v2}`, `v1=${v1} v2=${v2}`]);
    },
  );

  it('--target compose --dry-run prints how the stage changes the sidecar configs it renders', async () => {
    const result = await runScript('promote.sh', ['--target', 'compose', '--dry-run', '50']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('# stage canary-50 (k8s/overlays/canary-50)');
    expect(result.stdout).toMatch(
      /\|v1\|backend\.mesh-demo\.svc\.cluster\.local\n-\s+weight: 90\n\+\s+weight: 50\n/,
    );
    expect(result.stdout).toContain('--force-recreate --wait frontend-envoy');
  });

  describe('applying (kubectl apply recorded by a stand-in)', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'promote-sh-'));
      // kustomize goes to the real kubectl; apply is recorded: its arguments and what it was fed.
      await writeFile(
        path.join(dir, 'kubectl'),
        '#!/usr/bin/env bash\n' +
          'if [ "$1" = kustomize ]; then exec kubectl "$@"; fi\n' +
          `echo "$*" >>"${dir}/args"\n` +
          `cat >>"${dir}/stdin"\n`,
      );
      await chmod(path.join(dir, 'kubectl'), 0o755);
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('pipes the rendered overlay into kubectl apply -l traffic-split=backend', async () => {
      const result = await runScript('promote.sh', ['50'], { KUBECTL: path.join(dir, 'kubectl') });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(
        'backend VirtualService now sends 50% of calls to v1 (1.0.0) and 50% to v2 (2.0.0).',
      );
      expect((await readFile(path.join(dir, 'args'), 'utf8')).trim()).toBe(
        'apply -l traffic-split=backend -f -',
      );
      const fed = parseAllDocuments(await readFile(path.join(dir, 'stdin'), 'utf8')).map(
        (doc) => doc.toJSON() as VirtualService,
      );
      // The whole stage goes in; the label selector keeps kubectl to the VirtualService.
      expect(fed.length).toBeGreaterThan(10);
      const labelled = fed.filter((doc) => doc.metadata?.labels?.['traffic-split'] === 'backend');
      expect(labelled.map((doc) => doc.kind)).toEqual(['VirtualService']);
      expect(weightsOf(labelled[0] as VirtualService)[0]).toBe('v1=50 v2=50');
    }, 30_000);
  });

  it.each([
    [['30'], "STAGE '30' is not 0, 10, 50 or 100"],
    [[], 'which STAGE: 10, 50, 100, or 0 to roll back?'],
    [['10', '50'], "one STAGE only, got '10' and '50'"],
    [['--target', 'nomad', '10'], "--target: 'nomad' is not k8s, compose or local"],
    [['--target'], '--target needs k8s, compose or local'],
    [['--force', '10'], "unknown option '--force'"],
  ])('refuses %j with exit 2', async (args, message) => {
    const result = await runScript('promote.sh', args);
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(2);
  });
});

describe('circuit-breaker.sh', () => {
  const commands = (stdout: string) =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('+ '))
      .map((line) => line.slice(2));

  it('--dry-run (k8s): canary-50, fault on v2, load, the sidecar statistics, then restores', async () => {
    const result = await runScript('circuit-breaker.sh', ['--dry-run', '-n', '20'], {
      BASE_URL: 'http://localhost:9999',
    });
    expect(result.code).toBe(0);
    expect(commands(result.stdout)).toEqual([
      'kubectl kustomize k8s/overlays/canary-50 | kubectl apply -l traffic-split=backend -f -',
      'kubectl -n mesh-demo set env deployment/backend-v2 FAULT_ERROR_RATE=1',
      'kubectl -n mesh-demo rollout status deployment/backend-v2 --timeout=180s',
      "for i in $(seq 1 20); do curl -s -o /dev/null -w '%{http_code}\\n' http://localhost:9999/api/version; done | sort | uniq -c",
      "POD=$(kubectl get pod -n mesh-demo -l app=frontend -o jsonpath='{.items[0].metadata.name}')",
      `kubectl exec -n mesh-demo "$POD" -c istio-proxy -- pilot-agent request GET stats | grep 'outbound|80||backend' | grep outlier_detection`,
      'kubectl -n mesh-demo set env deployment/backend-v2 FAULT_ERROR_RATE- FAULT_DELAY_MS-',
      'kubectl kustomize k8s/overlays/canary-10 | kubectl apply -l traffic-split=backend -f -',
    ]);
  });

  it('--dry-run --all-pods uses the one-pool VirtualService and --keep leaves the fault on', async () => {
    const result = await runScript('circuit-breaker.sh', ['--dry-run', '--all-pods', '--keep']);
    expect(result.code).toBe(0);
    const cmds = commands(result.stdout);
    expect(cmds[0]).toBe('kubectl apply -f k8s/demos/virtual-service-backend-all-pods.yaml');
    expect(cmds.some((cmd) => cmd.includes('FAULT_ERROR_RATE-'))).toBe(false);
    expect(result.stdout).toContain('# --keep: the fault stays on');
  });

  it('--dry-run --target compose: the env override from docs/docker-compose.md and Envoy admin stats', async () => {
    const result = await runScript('circuit-breaker.sh', ['--dry-run', '--target', 'compose']);
    expect(result.code).toBe(0);
    expect(commands(result.stdout)).toEqual([
      'BACKEND_V2_FAULT_ERROR_RATE=1 docker compose up -d --wait backend-v2',
      "for i in $(seq 1 100); do curl -s -o /dev/null -w '%{http_code}\\n' http://localhost:8080/api/version; done | sort | uniq -c",
      "docker compose exec -T frontend-envoy bash /etc/envoy/admin.sh 'stats?filter=outbound.80.v2.backend.*outlier_detection'",
      "docker compose exec -T frontend-envoy bash /etc/envoy/admin.sh clusters | grep 'outbound|80|v2|backend.*health_flags'",
      'docker compose up -d --wait backend-v2',
    ]);
  });

  it('names what it drives in the file the compose docs describe', async () => {
    const compose = await readFile(path.join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8');
    expect(compose).toContain('${BACKEND_V2_FAULT_ERROR_RATE:-}');
    const demo = await readFile(
      path.join(__dirname, '..', '..', 'k8s', 'demos', 'virtual-service-backend-all-pods.yaml'),
      'utf8',
    );
    expect(demo).toContain('kind: VirtualService');
  });

  it.each([
    [['--target', 'compose', '--all-pods'], '--all-pods is for k8s'],
    [['-n', '0'], '-n needs a whole number from 1 to 10000'],
    [['--restore-stage', '30'], '--restore-stage needs 10, 50 or 100'],
    [['--target', 'swarm'], "--target: 'swarm' is not k8s, compose or local"],
    [['now'], "unknown argument 'now'"],
  ])('refuses %j with exit 2', async (args, message) => {
    const result = await runScript('circuit-breaker.sh', args);
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(2);
  });
});

describe('mtls-check.sh', () => {
  it('--dry-run prints the three checks: certificates, plaintext refused, wrong identity refused', async () => {
    const result = await runScript('mtls-check.sh', ['--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'istioctl proxy-config secret "$POD" -n mesh-demo -o json | jq \'.dynamicActiveSecrets\'',
    );
    expect(result.stdout).toMatch(
      /kubectl run mtls-probe-\d+ -n default --rm -i --restart=Never --image=curlimages\/curl:8\.11\.1 -- curl -sS -m 5 http:\/\/backend\.mesh-demo\/version/,
    );
    expect(result.stdout).toContain('kubectl exec -n mesh-demo deploy/thumbnailer -c thumbnailer -- node -e');
    expect(result.stdout).toContain('expect 403');
  });

  it('takes another namespace and curl image', async () => {
    const result = await runScript('mtls-check.sh', [
      '--dry-run',
      '--namespace',
      'shop',
      '--probe-ns',
      'tools',
      '--image',
      'curl:8',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      '-n tools --rm -i --restart=Never --image=curl:8 -- curl -sS -m 5 http://backend.shop/version',
    );
  });

  it.each([
    [['--namespace', 'Not_Valid'], "'Not_Valid' is not a Kubernetes namespace name"],
    [['--probe-ns', 'mesh-demo'], '--probe-ns must differ from --namespace'],
    [['--image'], '--image needs a value'],
    [['--strict'], "unknown argument '--strict'"],
  ])('refuses %j with exit 2', async (args, message) => {
    const result = await runScript('mtls-check.sh', args);
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(2);
  });

  it('needs kubectl and istioctl for a real run, and says so', async () => {
    const result = await runScript('mtls-check.sh', [], { KUBECTL: 'kubectl', ISTIOCTL: 'no-such-istioctl' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no-such-istioctl is required');
  });
});
