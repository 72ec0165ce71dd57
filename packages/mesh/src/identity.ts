// Istio's workload identity: the SPIFFE ID of the pod's ServiceAccount,
// spiffe://<trust domain>/ns/<namespace>/sa/<service account>, carried as the URI SAN of the
// workload certificate (istio.io/latest/docs/concepts/security/#istio-identity). AuthorizationPolicy
// names peers by the same ID without its scheme, `<trust domain>/ns/<ns>/sa/<sa>` (a "principal").

/** Istio's default trust domain. */
export const TRUST_DOMAIN = 'cluster.local';
/** Istio's root namespace: policies there apply to the whole mesh. */
export const ROOT_NAMESPACE = 'istio-system';

/** A workload's identity: the ServiceAccount it runs as, in its namespace and trust domain. */
export interface WorkloadIdentity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

/** `spiffe://cluster.local/ns/<namespace>/sa/<serviceAccount>`. */
export const spiffeIdOf = (namespace: string, serviceAccount: string, trustDomain = TRUST_DOMAIN): string =>
  `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;

/** `cluster.local/ns/<namespace>/sa/<serviceAccount>`: the form AuthorizationPolicy `principals` use. */
export const principalOf = (namespace: string, serviceAccount: string, trustDomain = TRUST_DOMAIN): string =>
  `${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;

const SPIFFE = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/;

/**
 * Reads an Istio SPIFFE ID back into its parts.
 * @throws Error when `uri` is not `spiffe://<trust domain>/ns/<ns>/sa/<sa>`.
 */
export function parseSpiffeId(uri: string): WorkloadIdentity {
  const m = SPIFFE.exec(uri);
  if (!m) throw new Error(`${uri} is not an Istio SPIFFE ID (spiffe://<trust domain>/ns/<ns>/sa/<sa>)`);
  return { trustDomain: m[1]!, namespace: m[2]!, serviceAccount: m[3]! };
}

/** The principal of a SPIFFE ID: the ID without `spiffe://`, as Envoy's RBAC filter compares it. */
export const principalOfSpiffeId = (uri: string): string => {
  const { trustDomain, namespace, serviceAccount } = parseSpiffeId(uri);
  return principalOf(namespace, serviceAccount, trustDomain);
};
