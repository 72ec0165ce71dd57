/**
 * A reading of Envoy's RBAC HTTP filter (envoy.extensions.filters.http.rbac.v3.RBAC), for the parts the
 * compose renderer writes, so tests can ask what a rendered sidecar decides for a request. It follows
 * Envoy's reference (api-v3/config/rbac/v3/rbac.proto): the filters run in order; an ALLOW filter lets a
 * request through when one of its policies matches, a DENY filter stops it when one does; a policy matches
 * when one of its permissions and one of its principals do. `authenticated.principal_name` is the URI SAN
 * of the peer's certificate; without a certificate it matches nothing. Anything else throws.
 */
import { normalizePath } from '@twin/mesh';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A request as the inbound listener's RBAC filter sees it. */
export interface RbacRequest {
  /** The peer's URI SAN (`spiffe://...`); undefined in plaintext. */
  principal?: string;
  method: string;
  /** As sent; the connection manager normalizes it before RBAC reads it. */
  path: string;
  /** The listener's port. */
  port: number;
  headers?: Record<string, string>;
}

function matchString(m: Any, value: string | undefined): boolean {
  if (value === undefined) return false;
  const fold = (s: string) => (m.ignore_case ? s.toLowerCase() : s);
  if ('exact' in m) return fold(value) === fold(m.exact);
  if ('prefix' in m) return fold(value).startsWith(fold(m.prefix));
  if ('suffix' in m) return fold(value).endsWith(fold(m.suffix));
  if ('safe_regex' in m) return new RegExp(`^(?:${m.safe_regex.regex})$`).test(value);
  throw new Error(`string matcher ${JSON.stringify(m)} is not read here`);
}

function headerValue(name: string, request: RbacRequest): string | undefined {
  if (name === ':method') return request.method;
  if (name === ':path') return request.path;
  return request.headers?.[name.toLowerCase()];
}

function matchPermission(p: Any, request: RbacRequest, path: string): boolean {
  if (p.any) return true;
  if (p.and_rules) return (p.and_rules.rules as Any[]).every((r) => matchPermission(r, request, path));
  if (p.or_rules) return (p.or_rules.rules as Any[]).some((r) => matchPermission(r, request, path));
  if (p.not_rule) return !matchPermission(p.not_rule, request, path);
  if (p.header) {
    const value = headerValue(p.header.name, request);
    return p.header.present_match ? value !== undefined : matchString(p.header.string_match, value);
  }
  if (p.url_path) return matchString(p.url_path.path, path);
  if (p.destination_port !== undefined) return p.destination_port === request.port;
  throw new Error(`permission ${JSON.stringify(p)} is not read here`);
}

function matchPrincipal(p: Any, request: RbacRequest): boolean {
  if (p.any) return true;
  if (p.and_ids) return (p.and_ids.ids as Any[]).every((id) => matchPrincipal(id, request));
  if (p.or_ids) return (p.or_ids.ids as Any[]).some((id) => matchPrincipal(id, request));
  if (p.not_id) return !matchPrincipal(p.not_id, request);
  if (p.authenticated) return matchString(p.authenticated.principal_name, request.principal);
  throw new Error(`principal ${JSON.stringify(p)} is not read here`);
}

const policyMatches = (policy: Any, request: RbacRequest, path: string): boolean =>
  (policy.permissions as Any[]).some((p) => matchPermission(p, request, path)) &&
  (policy.principals as Any[]).some((p) => matchPrincipal(p, request));

/** The RBAC filters among an HTTP connection manager's filters, in order. */
export const rbacFiltersOf = (httpFilters: Any[]): Any[] =>
  httpFilters.filter((f) => f.name === 'envoy.filters.http.rbac').map((f) => f.typed_config.rules);

/** Whether the RBAC filters (their `rules`, in order) let the request through. */
export function rbacAllows(rules: Any[], request: RbacRequest): boolean {
  const path = normalizePath(request.path);
  return rules.every((r) => {
    const matched = Object.values(r.policies ?? {}).some((policy) =>
      policyMatches(policy as Any, request, path),
    );
    return r.action === 'DENY' ? !matched : matched;
  });
}
