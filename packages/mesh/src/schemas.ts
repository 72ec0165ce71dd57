// One zod schema per Istio kind, strict: a field the project does not model is an error, so a
// resource never means more in the cluster than the local data plane executes. The checks follow
// Istio's own validation where the data planes depend on it (durations at least 1ms, percentages
// 0-100, StringMatch with exactly one of its forms, status codes 200-599).
import { z } from 'zod';
import { parseDuration } from './duration';
import type {
  AuthorizationPolicy,
  DestinationRule,
  Gateway,
  IstioKind,
  PeerAuthentication,
  StringMatch,
  VirtualService,
} from './types';

/** Envoy's retry conditions (HTTP and gRPC) that Istio's retryOn passes through, besides status codes. */
export const RETRY_ON_CONDITIONS = [
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'envoy-ratelimited',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
] as const;

const duration = z.string().refine((text) => (parseDuration(text) ?? 0) >= 1, {
  message: 'must be a duration of at least 1ms, e.g. "1.5s", "30s", "250ms"',
});
const count = z.number().int().min(0);
const percentage = z.number().min(0).max(100);
const labels = z.record(z.string(), z.string());
const names = z.array(z.string().min(1));

const stringMatch = z
  .strictObject({ exact: z.string().optional(), prefix: z.string().optional(), regex: z.string().optional() })
  .superRefine((match, ctx) => {
    const set = Object.keys(match).filter((k) => match[k as keyof typeof match] !== undefined);
    if (set.length !== 1) {
      ctx.addIssue({ code: 'custom', message: 'needs exactly one of exact, prefix or regex' });
      return;
    }
    if (match.regex !== undefined) {
      try {
        new RegExp(match.regex);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['regex'], message: (err as Error).message });
      }
    }
  })
  .transform((match) => match as StringMatch);

const metadata = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS-1123 name'),
  namespace: z.string().min(1).optional(),
  labels: labels.optional(),
  annotations: labels.optional(),
});

const retryOn = z.string().superRefine((text, ctx) => {
  for (const part of text.split(',').map((p) => p.trim())) {
    const known = (RETRY_ON_CONDITIONS as readonly string[]).includes(part);
    const status = /^\d{3}$/.test(part) && Number(part) >= 100 && Number(part) <= 599;
    if (!known && !status)
      ctx.addIssue({
        code: 'custom',
        message: `"${part}" is not one of Envoy's retry conditions (${RETRY_ON_CONDITIONS.join(', ')}) or a status code`,
      });
  }
});

const httpRoute = z
  .strictObject({
    name: z.string().optional(),
    match: z
      .array(
        z.strictObject({
          name: z.string().optional(),
          uri: stringMatch.optional(),
          method: stringMatch.optional(),
          headers: z.record(z.string(), stringMatch).optional(),
          ignoreUriCase: z.boolean().optional(),
        }),
      )
      .optional(),
    route: z
      .array(
        z.strictObject({
          destination: z.strictObject({
            host: z.string().min(1),
            subset: z.string().min(1).optional(),
            port: z.strictObject({ number: z.number().int().min(1).max(65535) }).optional(),
          }),
          weight: z.number().int().min(0).max(100).optional(),
        }),
      )
      .min(1),
    timeout: duration.optional(),
    retries: z
      .strictObject({ attempts: count, perTryTimeout: duration.optional(), retryOn: retryOn.optional() })
      .optional(),
    fault: z
      .strictObject({
        delay: z
          .strictObject({
            fixedDelay: duration,
            percentage: z.strictObject({ value: percentage }).optional(),
          })
          .optional(),
        abort: z
          .strictObject({
            httpStatus: z.number().int().min(200).max(599),
            percentage: z.strictObject({ value: percentage }).optional(),
          })
          .optional(),
      })
      .optional(),
  })
  .superRefine((route, ctx) => {
    // Istio's rule: one destination may leave its weight out (it takes everything); several must
    // each have one, and together they take all the traffic.
    if (route.route.length === 1 && (route.route[0]!.weight ?? 100) === 100) return;
    const missing = route.route.findIndex((r) => r.weight === undefined);
    if (missing >= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['route', missing, 'weight'],
        message: 'is required with several destinations',
      });
      return;
    }
    const total = route.route.reduce((sum, r) => sum + (r.weight ?? 0), 0);
    if (total !== 100)
      ctx.addIssue({ code: 'custom', path: ['route'], message: `weights sum to ${total}, not 100` });
  });

const trafficPolicy = z.strictObject({
  connectionPool: z
    .strictObject({
      tcp: z
        .strictObject({ maxConnections: count.optional(), connectTimeout: duration.optional() })
        .optional(),
      http: z
        .strictObject({
          http1MaxPendingRequests: count.optional(),
          http2MaxRequests: count.optional(),
          maxRequestsPerConnection: count.optional(),
          maxRetries: count.optional(),
          idleTimeout: duration.optional(),
        })
        .optional(),
    })
    .optional(),
  outlierDetection: z
    .strictObject({
      consecutive5xxErrors: count.optional(),
      consecutiveGatewayErrors: count.optional(),
      interval: duration.optional(),
      baseEjectionTime: duration.optional(),
      maxEjectionPercent: z.number().int().min(0).max(100).optional(),
      minHealthPercent: z.number().int().min(0).max(100).optional(),
    })
    .optional(),
});

const selector = z.strictObject({ matchLabels: labels.optional() });
const mtlsMode = z.enum(['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT']);
const listPair = <K extends string>(...keys: K[]) =>
  z.strictObject(
    Object.fromEntries(
      keys.flatMap((k) => [
        [k, names.optional()],
        [`not${k[0]!.toUpperCase()}${k.slice(1)}`, names.optional()],
      ]),
    ),
  );

const resource = <K extends IstioKind, S extends z.ZodType>(kind: K, group: string, spec: S) =>
  z.strictObject({
    apiVersion: z.enum([`${group}/v1`, `${group}/v1beta1`], {
      message: `must be ${group}/v1 (or the older ${group}/v1beta1)`,
    }),
    kind: z.literal(kind),
    metadata,
    spec,
  });

const NETWORKING = 'networking.istio.io';
const SECURITY = 'security.istio.io';

/** Validators by kind; the output is the typed resource. */
export const SCHEMAS = {
  VirtualService: resource(
    'VirtualService',
    NETWORKING,
    z.strictObject({
      hosts: names.min(1),
      gateways: names.optional(),
      exportTo: names.optional(),
      http: z.array(httpRoute).min(1),
    }),
  ) satisfies z.ZodType<VirtualService>,
  DestinationRule: resource(
    'DestinationRule',
    NETWORKING,
    z.strictObject({
      host: z.string().min(1),
      trafficPolicy: trafficPolicy.optional(),
      subsets: z
        .array(z.strictObject({ name: z.string().min(1), labels, trafficPolicy: trafficPolicy.optional() }))
        .optional()
        .superRefine((subsets, ctx) => {
          const seen = new Set<string>();
          for (const [i, s] of (subsets ?? []).entries()) {
            if (seen.has(s.name))
              ctx.addIssue({
                code: 'custom',
                path: [i, 'name'],
                message: `subset ${s.name} is defined twice`,
              });
            seen.add(s.name);
          }
        }),
      exportTo: names.optional(),
    }),
  ) satisfies z.ZodType<DestinationRule>,
  PeerAuthentication: resource(
    'PeerAuthentication',
    SECURITY,
    z
      .strictObject({
        selector: selector.optional(),
        mtls: z.strictObject({ mode: mtlsMode.optional() }).optional(),
        portLevelMtls: z
          .record(
            z.string().regex(/^\d+$/, 'must be a port number'),
            z.strictObject({ mode: mtlsMode.optional() }),
          )
          .optional(),
      })
      .refine((spec) => !spec.portLevelMtls || spec.selector, {
        message: 'portLevelMtls needs a selector',
        path: ['portLevelMtls'],
      }),
  ) satisfies z.ZodType<PeerAuthentication>,
  AuthorizationPolicy: resource(
    'AuthorizationPolicy',
    SECURITY,
    z.strictObject({
      selector: selector.optional(),
      action: z.enum(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM']).optional(),
      provider: z.strictObject({ name: z.string().min(1) }).optional(),
      rules: z
        .array(
          z.strictObject({
            from: z
              .array(
                z.strictObject({
                  source: listPair(
                    'principals',
                    'requestPrincipals',
                    'namespaces',
                    'ipBlocks',
                    'remoteIpBlocks',
                  ),
                }),
              )
              .optional(),
            to: z
              .array(z.strictObject({ operation: listPair('hosts', 'ports', 'methods', 'paths') }))
              .optional(),
            when: z
              .array(
                z.strictObject({
                  key: z.string().min(1),
                  values: names.optional(),
                  notValues: names.optional(),
                }),
              )
              .optional(),
          }),
        )
        .optional(),
    }),
  ) satisfies z.ZodType<AuthorizationPolicy>,
  Gateway: resource(
    'Gateway',
    NETWORKING,
    z.strictObject({
      selector: labels.optional(),
      servers: z
        .array(
          z.strictObject({
            port: z.strictObject({
              number: z.number().int().min(1).max(65535),
              name: z.string().min(1),
              protocol: z.string().min(1),
            }),
            hosts: names.min(1),
          }),
        )
        .min(1),
    }),
  ) satisfies z.ZodType<Gateway>,
} as const;

/** The kinds the model reads; any other kind under k8s/istio/ is refused. */
export const ISTIO_KINDS = Object.keys(SCHEMAS) as IstioKind[];
