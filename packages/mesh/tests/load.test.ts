import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import {
  type ConfigProblem,
  listStages,
  loadMeshConfig,
  MeshConfigError,
  type IstioResource,
  type VirtualService,
} from '@twin/mesh';

const ROOT = path.resolve(__dirname, '../../..');

const weights = (vs: VirtualService) =>
  vs.spec.http.map((route) => route.route.map((r) => `${r.destination.subset}=${r.weight}`).join(' '));

describe('loadMeshConfig on the repository', () => {
  it('reads every resource the k8s/istio component lists, typed by kind', () => {
    const config = loadMeshConfig({ root: ROOT });
    expect(config.resources.map((r) => `${r.kind}/${r.metadata.name}`).sort()).toEqual([
      'AuthorizationPolicy/allow-nothing',
      'AuthorizationPolicy/backend-from-frontend',
      'AuthorizationPolicy/dynamodb-local-from-backend',
      'AuthorizationPolicy/frontend-from-ingress',
      'AuthorizationPolicy/minio-from-clients',
      'AuthorizationPolicy/thumbnailer-from-minio',
      'DestinationRule/backend',
      'Gateway/frontend-gateway',
      'PeerAuthentication/default',
      'VirtualService/backend',
      'VirtualService/frontend',
    ]);
    expect(config.virtualServices).toHaveLength(2);
    expect(config.fileOf(config.destinationRules[0]!)).toBe('k8s/istio/destination-rule-backend.yaml');
    expect(config.watchPaths).toEqual([path.join(ROOT, 'k8s/istio')]);
  });

  it.each([
    ['canary-0', 'v1=100 v2=0'],
    ['canary-10', 'v1=90 v2=10'],
    ['canary-50', 'v1=50 v2=50'],
    ['canary-100', 'v1=0 v2=100'],
  ])('applies the %s overlay: both backend routes split %s', (stage, split) => {
    const config = loadMeshConfig({ root: ROOT, stage });
    const backend = config.virtualServices.find((vs) => vs.metadata.name === 'backend')!;
    expect(weights(backend)).toEqual([split, split]);
    expect(config.watchPaths).toContain(path.join(ROOT, 'k8s/overlays', stage));
  });

  it('lists the stages', () => {
    expect(listStages(ROOT)).toEqual(['canary-0', 'canary-10', 'canary-100', 'canary-50']);
  });

  it.each(['canary-0', 'canary-10', 'canary-50', 'canary-100'])(
    'gives for %s the very Istio resources kubectl kustomize renders',
    (stage) => {
      const rendered = YAML.parseAllDocuments(
        execFileSync('kubectl', ['kustomize', path.join(ROOT, 'k8s/overlays', stage)], { encoding: 'utf8' }),
      )
        .map((doc) => doc.toJS() as IstioResource)
        .filter((o) => /^(networking|security)\.istio\.io\//.test(o.apiVersion));
      const key = (r: IstioResource) => `${r.kind}/${r.metadata.name}`;
      const byKey = (list: IstioResource[]) => Object.fromEntries(list.map((r) => [key(r), r]));
      expect(byKey(loadMeshConfig({ root: ROOT, stage }).resources)).toEqual(byKey(rendered));
    },
  );
});

describe('loadMeshConfig on broken copies', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-config-'));
    fs.cpSync(path.join(ROOT, 'k8s/istio'), path.join(root, 'k8s/istio'), { recursive: true });
    fs.cpSync(path.join(ROOT, 'k8s/overlays'), path.join(root, 'k8s/overlays'), { recursive: true });
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const edit = (file: string, change: (text: string) => string) => {
    const full = path.join(root, file);
    fs.writeFileSync(full, change(fs.readFileSync(full, 'utf8')));
  };
  const problems = (stage?: string): ConfigProblem[] => {
    try {
      loadMeshConfig({ root, stage });
    } catch (err) {
      expect(err).toBeInstanceOf(MeshConfigError);
      return (err as MeshConfigError).problems;
    }
    throw new Error('expected the configuration to be refused');
  };
  const VS = 'k8s/istio/virtual-service-backend.yaml';
  const DR = 'k8s/istio/destination-rule-backend.yaml';
  const PATCH = 'k8s/overlays/canary-10/backend-weights.yaml';

  it('names the file of YAML that does not parse', () => {
    edit(DR, (text) => `${text}\n  subsets: [oops\n`);
    expect(problems()).toEqual([
      { file: DR, field: '', message: expect.stringMatching(/^is not valid YAML: /) },
    ]);
  });

  it('names the route whose weights do not sum to 100, and the patch that made them so', () => {
    edit(PATCH, (text) => text.replace('value: 90', 'value: 85'));
    expect(problems('canary-10')).toEqual([
      {
        file: VS,
        field: 'spec.http[0].route',
        message: `weights sum to 95, not 100 (after the patch ${PATCH})`,
      },
    ]);
  });

  it('refuses the overlay when a test operation fails (destinations reordered)', () => {
    edit(VS, (text) =>
      text
        .replace(/subset: v1/g, 'subset: vX')
        .replace(/subset: v2/g, 'subset: v1')
        .replace(/subset: vX/g, 'subset: v2'),
    );
    const found = problems('canary-10');
    expect(found[0]).toEqual({
      file: PATCH,
      field: '[0]',
      message: 'test failed: /spec/http/0/route/0/destination/subset is not "v1" in VirtualService/backend',
    });
  });

  it('names bad durations, unknown fields, deprecated fields and missing subsets by field', () => {
    edit(VS, (text) =>
      text
        .replace('perTryTimeout: 1.5s', 'perTryTimeout: 1.5 seconds')
        .replace(
          'subset: v2\n          weight: 0\n      timeout: 4s\n      retries:\n        attempts: 2\n        perTryTimeout: 4s',
          'subset: v3\n          weight: 0\n      timeout: 4s\n      retries:\n        attempts: 2\n        perTryTimeout: 4s',
        ),
    );
    edit(DR, (text) =>
      text
        .replace('consecutive5xxErrors: 5', 'consecutiveErrors: 5')
        .replace('maxEjectionPercent: 50', 'maxEjectionPercent: 150'),
    );
    expect(problems()).toEqual(
      expect.arrayContaining([
        {
          file: VS,
          field: 'spec.http[0].retries.perTryTimeout',
          message: 'must be a duration of at least 1ms, e.g. "1.5s", "30s", "250ms"',
        },
        {
          file: DR,
          field: 'spec.trafficPolicy.outlierDetection.consecutiveErrors',
          message: 'is not a field the mesh model reads',
        },
        {
          file: DR,
          field: 'spec.trafficPolicy.outlierDetection.maxEjectionPercent',
          message: expect.stringMatching(/100/),
        },
      ]),
    );
    edit(VS, (text) => text.replace('perTryTimeout: 1.5 seconds', 'perTryTimeout: 1.5s'));
    edit(DR, (text) =>
      text
        .replace('consecutiveErrors: 5', 'consecutive5xxErrors: 5')
        .replace('maxEjectionPercent: 150', 'maxEjectionPercent: 50'),
    );
    expect(problems()).toEqual([
      {
        file: VS,
        field: 'spec.http[1].route[1].destination.subset',
        message: 'v3 is not a subset of backend in any DestinationRule (v1, v2)',
      },
    ]);
  });

  it('names unknown retry conditions, match forms and kinds', () => {
    edit(VS, (text) =>
      text
        .replace('retryOn: 5xx,reset', 'retryOn: 5xx,sometimes,reset')
        .replace('exact: HEAD', 'exact: HEAD\n            prefix: H'),
    );
    edit('k8s/istio/gateway.yaml', (text) => text.replace('kind: Gateway', 'kind: Telemetry'));
    const found = problems();
    expect(found).toEqual(
      expect.arrayContaining([
        {
          file: VS,
          field: 'spec.http[0].retries.retryOn',
          message: expect.stringMatching(/^"sometimes" is not one of Envoy's retry conditions/),
        },
        {
          file: VS,
          field: 'spec.http[0].match[1].method',
          message: 'needs exactly one of exact, prefix or regex',
        },
        {
          file: 'k8s/istio/gateway.yaml',
          field: 'kind',
          message: expect.stringMatching(/^Telemetry is not one of VirtualService, DestinationRule/),
        },
      ]),
    );
    expect(new MeshConfigError(found).message).toContain(`${VS}: spec.http[0].retries.retryOn: "sometimes"`);
  });

  it('names an overlay that does not exist, and a file the component lists but that is missing', () => {
    expect(problems('canary-7')).toEqual([
      {
        file: 'k8s/overlays/canary-7/kustomization.yaml',
        field: '',
        message: 'no overlay named canary-7 (see k8s/overlays/)',
      },
    ]);
    fs.rmSync(path.join(root, DR));
    expect(problems()).toEqual([{ file: DR, field: '', message: 'cannot be read (ENOENT)' }]);
  });
});
