import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { cpuMillis, memoryMib, renderOverlay, workloadsFromManifests } from '../src/footprint';

describe('Kubernetes quantities', () => {
  it('reads CPU in millicores', () => {
    expect(cpuMillis('50m')).toBe(50);
    expect(cpuMillis('1')).toBe(1000);
    expect(cpuMillis('0.5')).toBe(500);
    expect(cpuMillis(2)).toBe(2000);
    expect(cpuMillis(undefined)).toBe(0);
    expect(() => cpuMillis('1Gi')).toThrow('not a CPU quantity');
  });

  it('reads memory in MiB, binary and decimal suffixes alike', () => {
    expect(memoryMib('128Mi')).toBe(128);
    expect(memoryMib('1Gi')).toBe(1024);
    expect(memoryMib('512Ki')).toBe(0.5);
    expect(memoryMib('1G')).toBeCloseTo(953.674, 3);
    expect(memoryMib(String(2 ** 20))).toBe(1);
    expect(() => memoryMib('1 GB')).toThrow('not a memory quantity');
  });
});

describe('workloadsFromManifests', () => {
  const deployment = (
    name: string,
    namespace: string,
    metadata: Record<string, unknown> = {},
    replicas?: number,
  ) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      ...(replicas !== undefined ? { replicas } : {}),
      template: {
        metadata: { labels: { app: name }, ...metadata },
        spec: {
          containers: [
            { name, resources: { requests: { cpu: '50m', memory: '128Mi' } } },
            { name: 'helper', resources: { requests: { cpu: '10m' } } },
          ],
        },
      },
    },
  });
  const docs = [
    { kind: 'Namespace', metadata: { name: 'mesh', labels: { 'istio-injection': 'enabled' } } },
    { kind: 'Namespace', metadata: { name: 'plain' } },
    deployment('api', 'mesh', {}, 3),
    deployment('opted-out', 'mesh', { labels: { app: 'opted-out', 'sidecar.istio.io/inject': 'false' } }),
    deployment('tuned', 'mesh', {
      annotations: { 'sidecar.istio.io/proxyCPU': '20m', 'sidecar.istio.io/proxyMemory': '64Mi' },
    }),
    deployment('outside', 'plain'),
    { kind: 'Service', metadata: { name: 'api', namespace: 'mesh' } },
  ];

  it("sums each pod's container requests and adds the sidecar injection would add", () => {
    const workloads = workloadsFromManifests(docs);
    expect(workloads.map((w) => [w.name, w.replicas, w.perPod, w.sidecar])).toEqual([
      ['api', 3, { cpuMillis: 60, memoryMib: 128 }, { cpuMillis: 100, memoryMib: 128 }],
      ['opted-out', 1, { cpuMillis: 60, memoryMib: 128 }, undefined],
      ['tuned', 1, { cpuMillis: 60, memoryMib: 128 }, { cpuMillis: 20, memoryMib: 64 }],
      ['outside', 1, { cpuMillis: 60, memoryMib: 128 }, undefined],
    ]);
  });

  const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  (hasKubectl ? it : it.skip)("reads the project's canary-10 overlay as kubectl kustomize renders it", () => {
    const workloads = workloadsFromManifests(
      renderOverlay(path.resolve(__dirname, '..', '..'), 'k8s/overlays/canary-10'),
    );
    const byName = new Map(workloads.map((w) => [w.name, w]));
    expect(byName.get('backend-v1')).toMatchObject({ namespace: 'mesh-demo', app: 'backend', replicas: 3 });
    expect(byName.get('backend-v1')?.sidecar).toEqual({ cpuMillis: 100, memoryMib: 128 });
    expect(byName.get('backend-v2')).toMatchObject({ replicas: 1 });
    expect(byName.get('frontend')?.sidecar).toBeDefined();
    // Jaeger runs in istio-system without a sidecar.
    expect(byName.get('jaeger')).toMatchObject({ namespace: 'istio-system', sidecar: undefined });
    for (const w of workloads) expect(w.perPod.cpuMillis).toBeGreaterThan(0);
  });
});
