// The few Envoy v3 API names the renderer writes in more than one place: filter names, their
// `@type` URLs, and the JSON-like shape of a config.

/** A piece of Envoy configuration as its YAML/JSON form writes it (snake_case fields). */
export type EnvoyObject = Record<string, unknown>;

/** `type.googleapis.com/<message>`, the `@type` of an Any. */
export const typeUrl = (message: string): string => `type.googleapis.com/${message}`;

/** An extension: its name and its typed_config (`@type` plus fields). */
export const typed = (name: string, message: string, fields: EnvoyObject = {}): EnvoyObject => ({
  name,
  typed_config: { '@type': typeUrl(message), ...fields },
});

export const FAULT_FILTER = 'envoy.filters.http.fault';
export const RBAC_FILTER = 'envoy.filters.http.rbac';
export const ROUTER_FILTER = 'envoy.filters.http.router';
export const HCM_FILTER = 'envoy.filters.network.http_connection_manager';
export const TCP_PROXY_FILTER = 'envoy.filters.network.tcp_proxy';
export const TLS_SOCKET = 'envoy.transport_sockets.tls';
