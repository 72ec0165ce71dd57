// AuthorizationPolicies as Envoy RBAC HTTP filters, the way istiod builds them for a sidecar's inbound
// listener (pilot/pkg/security/authz/builder/builder.go, model/model.go, model/generator.go,
// matcher/): one filter for the DENY policies, then one for the ALLOW policies, each holding a policy
// per rule named `ns[<namespace>]-policy[<name>]-rule[<index>]`. A rule's `from` entries are its
// principals and its `to` entries its permissions (any one matching is enough); inside an entry every
// field must match (AND) and a field's values are alternatives (OR), its `not` values an exclusion.
// Peers are the `authenticated` principal of their certificate: `spiffe://` plus the policy's value.
// A policy without rules matches nothing. What a compose sidecar cannot check (JWT principals,
// `when` conditions, path templates, CUSTOM and AUDIT actions) is refused instead of approximated.
import type { AuthorizationPolicyInput } from '../authz';
import type { Operation, Rule, Source } from '../types';
import { type EnvoyObject, RBAC_FILTER, typeUrl } from './envoy';

/** Why a policy cannot be rendered for compose. */
export class UnsupportedPolicyError extends Error {
  override name = 'UnsupportedPolicyError';
}

/** Istio's string match for policy values: `*` any non-empty value, `prefix*`, `*suffix`, else exact. */
function stringMatcher(value: string, ignoreCase = false): EnvoyObject {
  const fold = ignoreCase ? { ignore_case: true } : {};
  if (value === '*') return { safe_regex: { regex: '.+' } };
  if (value.startsWith('*')) return { suffix: value.slice(1), ...fold };
  if (value.endsWith('*')) return { prefix: value.slice(0, -1), ...fold };
  return { exact: value, ...fold };
}

const header = (name: string, value: string, ignoreCase = false): EnvoyObject =>
  value === '*'
    ? { header: { name, present_match: true } }
    : { header: { name, string_match: stringMatcher(value, ignoreCase) } };

const cidr = (block: string): EnvoyObject => {
  const [address = '', bits] = block.split('/');
  return { address_prefix: address, prefix_len: Number(bits ?? (address.includes(':') ? 128 : 32)) };
};

type Field<T> = [values: string[] | undefined, notValues: string[] | undefined, one: (value: string) => T];

/** Each field as an OR of its values, and a NOT of the OR of its `not` values; all ANDed. */
function combine<T>(
  fields: Field<T>[],
  or: (items: T[]) => T,
  not: (item: T) => T,
  any: T,
  and: (items: T[]) => T,
): T {
  const parts: T[] = [];
  for (const [values, notValues, one] of fields) {
    if (values?.length) parts.push(or(values.map(one)));
    if (notValues?.length) parts.push(not(or(notValues.map(one))));
  }
  return and(parts.length ? parts : [any]);
}

function principal(source: Source, where: string): EnvoyObject {
  if (source.requestPrincipals || source.notRequestPrincipals)
    throw new UnsupportedPolicyError(
      `${where}: requestPrincipals need JWT authentication, which compose does not run`,
    );
  const authenticated = (m: EnvoyObject) => ({ authenticated: { principal_name: m } });
  const namespace = (ns: string) =>
    authenticated({ safe_regex: { regex: `.*/ns/${ns.split('*').map(escapeRegex).join('.*')}/.*` } });
  return combine<EnvoyObject>(
    [
      [source.principals, source.notPrincipals, (p) => authenticated(withSpiffe(p))],
      [source.namespaces, source.notNamespaces, namespace],
      [source.remoteIpBlocks, source.notRemoteIpBlocks, (b) => ({ remote_ip: cidr(b) })],
      [source.ipBlocks, source.notIpBlocks, (b) => ({ direct_remote_ip: cidr(b) })],
    ],
    (ids) => ({ or_ids: { ids } }),
    (id) => ({ not_id: id }),
    { any: true },
    (ids) => ({ and_ids: { ids } }),
  );
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A principal value as a SPIFFE ID matcher (Istio's StringMatcherWithPrefix with `spiffe://`). */
function withSpiffe(value: string): EnvoyObject {
  if (value === '*') return { safe_regex: { regex: '.+' } };
  if (value.startsWith('*')) return { safe_regex: { regex: `spiffe://.*${escapeRegex(value.slice(1))}` } };
  if (value.endsWith('*')) return { prefix: `spiffe://${value.slice(0, -1)}` };
  return { exact: `spiffe://${value}` };
}

function permission(operation: Operation, where: string): EnvoyObject {
  for (const path of [...(operation.paths ?? []), ...(operation.notPaths ?? [])])
    if (path.includes('{'))
      throw new UnsupportedPolicyError(`${where}: path templates (${path}) are not rendered`);
  return combine<EnvoyObject>(
    [
      [operation.hosts, operation.notHosts, (h) => header(':authority', h, true)],
      [operation.methods, operation.notMethods, (m) => header(':method', m)],
      [operation.paths, operation.notPaths, (p) => ({ url_path: { path: stringMatcher(p) } })],
      [operation.ports, operation.notPorts, (p) => ({ destination_port: Number(p) })],
    ],
    (rules) => ({ or_rules: { rules } }),
    (rule) => ({ not_rule: rule }),
    { any: true },
    (rules) => ({ and_rules: { rules } }),
  );
}

function rbacPolicy(rule: Rule, where: string): EnvoyObject {
  if (rule.when?.length) throw new UnsupportedPolicyError(`${where}: 'when' conditions are not rendered`);
  const from = rule.from ?? [];
  const to = rule.to ?? [];
  return {
    permissions: to.length
      ? to.map(({ operation }) => permission(operation ?? {}, where))
      : [{ and_rules: { rules: [{ any: true }] } }],
    principals: from.length
      ? from.map(({ source }) => principal(source ?? {}, where))
      : [{ and_ids: { ids: [{ any: true }] } }],
  };
}

/** What istiod writes for a policy without rules: a policy that matches nothing. */
const MATCH_NEVER: EnvoyObject = {
  permissions: [{ not_rule: { any: true } }],
  principals: [{ not_id: { any: true } }],
};

/**
 * The RBAC filters a workload's inbound listener runs: DENY first, then ALLOW (none when no policy
 * applies). `policies` are those that select the workload (see `policiesFor`).
 * @throws UnsupportedPolicyError for what compose cannot enforce, naming the policy and what.
 */
export function rbacFilters(policies: AuthorizationPolicyInput[]): EnvoyObject[] {
  const filters: EnvoyObject[] = [];
  for (const policy of policies) {
    const action = policy.spec.action ?? 'ALLOW';
    if (action !== 'ALLOW' && action !== 'DENY')
      throw new UnsupportedPolicyError(
        `AuthorizationPolicy ${policy.metadata.name}: action ${action} is not rendered`,
      );
  }
  for (const action of ['DENY', 'ALLOW'] as const) {
    const chosen = policies.filter((p) => (p.spec.action ?? 'ALLOW') === action);
    if (!chosen.length) continue;
    const rbacPolicies: Record<string, EnvoyObject> = {};
    for (const policy of chosen) {
      const prefix = `ns[${policy.metadata.namespace ?? 'default'}]-policy[${policy.metadata.name}]`;
      const rules = policy.spec.rules ?? [];
      if (!rules.length) rbacPolicies[`${prefix}-rule[0]`] = MATCH_NEVER;
      rules.forEach((rule, i) => {
        rbacPolicies[`${prefix}-rule[${i}]`] = rbacPolicy(
          rule,
          `AuthorizationPolicy ${policy.metadata.name} rule ${i}`,
        );
      });
    }
    filters.push({
      name: RBAC_FILTER,
      typed_config: {
        '@type': typeUrl('envoy.extensions.filters.http.rbac.v3.RBAC'),
        rules: { action, policies: rbacPolicies },
      },
    });
  }
  return filters;
}
