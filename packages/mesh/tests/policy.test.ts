import path from 'node:path';
import {
  loadMeshConfig,
  principalOf,
  principalOfSpiffeId,
  resolveRoutes,
  spiffeIdOf,
  virtualServiceFor,
} from '@twin/mesh';
import { formatDuration, parseDuration } from '../src/duration';
import { parseSpiffeId } from '../src/identity';
import { clusterName, clusterPolicy, DEFAULT_RETRY_POLICY, resolveRetries, UNLIMITED } from '../src/policy';

const ROOT = path.resolve(__dirname, '../../..');

describe('durations', () => {
  it.each([
    ['1.5s', 1500],
    ['30s', 30_000],
    ['250ms', 250],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['500us', 0.5],
    ['0', 0],
  ])('reads %s as %d ms', (text, expected) => expect(parseDuration(text)).toBe(expected));

  it.each(['', '1.5', 's', '1.5 s', '-1s', '1d', '1s2'])('refuses %j', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );

  it('writes ms as Envoy writes durations', () => {
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(30_000)).toBe('30s');
    expect(formatDuration(0.5)).toBe('0.0005s');
  });
});

describe('identities', () => {
  it("are Istio's SPIFFE IDs and principals", () => {
    expect(spiffeIdOf('mesh-demo', 'frontend')).toBe('spiffe://cluster.local/ns/mesh-demo/sa/frontend');
    expect(principalOf('mesh-demo', 'frontend')).toBe('cluster.local/ns/mesh-demo/sa/frontend');
    expect(parseSpiffeId('spiffe://example.org/ns/a/sa/b')).toEqual({
      trustDomain: 'example.org',
      namespace: 'a',
      serviceAccount: 'b',
    });
    expect(principalOfSpiffeId('spiffe://cluster.local/ns/x/sa/y')).toBe('cluster.local/ns/x/sa/y');
    expect(() => parseSpiffeId('spiffe://cluster.local/sa/y')).toThrow(/not an Istio SPIFFE ID/);
  });
});

describe('retry policies, as Istio translates them', () => {
  it('uses the default policy when a route has none, and none at attempts 0', () => {
    expect(resolveRetries(undefined)).toBe(DEFAULT_RETRY_POLICY);
    expect(resolveRetries({ attempts: 0 })).toBeUndefined();
  });

  it('takes numbers in retryOn as retriable status codes', () => {
    expect(resolveRetries({ attempts: 3, retryOn: 'reset,502, 504', perTryTimeout: '2s' })).toEqual({
      numRetries: 3,
      perTryTimeoutMs: 2000,
      retryOn: ['reset', 'retriable-status-codes'],
      retriableStatusCodes: [502, 504],
    });
  });

  it('keeps the default conditions when only attempts are given', () => {
    expect(resolveRetries({ attempts: 1 })).toEqual({
      ...DEFAULT_RETRY_POLICY,
      numRetries: 1,
      perTryTimeoutMs: undefined,
    });
  });
});

describe('the repository policy, resolved', () => {
  const config = loadMeshConfig({ root: ROOT, stage: 'canary-10' });

  it("routes the mesh's calls to the backend by method, with the stage's weights", () => {
    const vs = virtualServiceFor(config, 'backend.mesh-demo.svc.cluster.local', 'mesh-demo')!;
    const [reads, writes] = resolveRoutes(vs);
    expect(reads).toEqual({
      name: 'reads',
      match: [{ method: { exact: 'GET' } }, { method: { exact: 'HEAD' } }],
      destinations: [
        { host: 'backend', subset: 'v1', port: undefined, weight: 90 },
        { host: 'backend', subset: 'v2', port: undefined, weight: 10 },
      ],
      timeoutMs: 4000,
      retries: {
        numRetries: 2,
        perTryTimeoutMs: 1500,
        retryOn: ['5xx', 'reset', 'connect-failure', 'refused-stream'],
        retriableStatusCodes: [],
      },
      fault: undefined,
    });
    expect(writes!.match).toEqual([]);
    expect(writes!.retries!.retryOn).toEqual(['connect-failure', 'refused-stream']);
    // The frontend's VirtualService is bound to the ingress gateway, not to calls inside the mesh.
    expect(virtualServiceFor(config, 'frontend', 'mesh-demo')).toBeUndefined();
  });

  it('gives each subset the rule-wide circuit breaker and outlier detection', () => {
    const v1 = clusterPolicy(config, 'backend', 'mesh-demo', 80, 'v1');
    expect(v1).toEqual({
      name: 'outbound|80|v1|backend.mesh-demo.svc.cluster.local',
      host: 'backend',
      subset: 'v1',
      labels: { version: 'v1' },
      connectionPool: {
        maxConnections: 100,
        connectTimeoutMs: 2000,
        http1MaxPendingRequests: 50,
        http2MaxRequests: UNLIMITED,
        maxRequestsPerConnection: 0,
        maxRetries: UNLIMITED,
      },
      outlierDetection: {
        consecutive5xxErrors: 5,
        consecutiveGatewayErrors: 5,
        intervalMs: 10_000,
        baseEjectionTimeMs: 30_000,
        maxEjectionTimeMs: 300_000,
        maxEjectionPercent: 50,
        minHealthPercent: 0,
      },
    });
    expect(clusterName('backend', 'mesh-demo', 80)).toBe('outbound|80||backend.mesh-demo.svc.cluster.local');
    expect(() => clusterPolicy(config, 'backend', 'mesh-demo', 80, 'v9')).toThrow(/subset v9/);
    // A host without a DestinationRule: Istio's unlimited pool, no outlier detection.
    expect(clusterPolicy(config, 'thumbnailer', 'mesh-demo', 80)).toMatchObject({
      labels: {},
      connectionPool: { maxConnections: UNLIMITED, connectTimeoutMs: 10_000 },
      outlierDetection: undefined,
    });
  });

  it("lets a subset's settings replace the rule's, setting by setting", () => {
    const copy = structuredClone(config.destinationRules[0]!);
    copy.spec.subsets![1]!.trafficPolicy = { outlierDetection: { consecutiveGatewayErrors: 2 } };
    const patched = { ...config, destinationRules: [copy] };
    expect(clusterPolicy(patched, 'backend', 'mesh-demo', 80, 'v2')).toMatchObject({
      connectionPool: { maxConnections: 100 },
      outlierDetection: { consecutive5xxErrors: 5, consecutiveGatewayErrors: 2, maxEjectionPercent: 10 },
    });
  });
});
