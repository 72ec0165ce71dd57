export {
  authorize,
  type AuthorizationPolicyInput,
  type Decision,
  type EvaluateOptions,
  matchRule,
  matchValue,
  mtlsMode,
  normalizePath,
  type Peer,
  type PeerAuthenticationInput,
  policiesFor,
  type Request,
  type Workload,
} from './authz';
export { startAdmin } from './admin';
export { type KeyPair, LocalCa, spiffeIdOfPeer, type WorkloadCertificate } from './ca';
export { type ConfigStatus, DataPlane, type DataPlaneOptions } from './data-plane';
export { formatDuration, parseDuration } from './duration';
export { type ConfigProblem, formatProblem, MeshConfigError } from './errors';
export {
  parseSpiffeId,
  principalOf,
  principalOfSpiffeId,
  ROOT_NAMESPACE,
  spiffeIdOf,
  TRUST_DOMAIN,
  type WorkloadIdentity,
} from './identity';
export {
  ISTIO_DIR,
  listStages,
  loadMeshConfig,
  type LoadOptions,
  type MeshConfig,
  OVERLAYS_DIR,
} from './load';
export { applyOverlay, type OverlayPatch, type PatchTarget } from './overlay';
export {
  clusterName,
  clusterPolicy,
  type ClusterPolicy,
  DEFAULT_RETRY_POLICY,
  destinationRuleFor,
  type ResolvedConnectionPool,
  type ResolvedDestination,
  type ResolvedFault,
  type ResolvedOutlierDetection,
  type ResolvedRetryPolicy,
  type ResolvedRoute,
  resolveConnectionPool,
  resolveRetries,
  resolveRoutes,
  UNLIMITED,
  virtualServiceFor,
} from './policy';
export { type MeshWorkload, type ProxySpec } from './proxy';
export { RETRY_ON_CONDITIONS } from './schemas';
export type * from './types';
export { fieldPath, shortHost, validateResource } from './validate';
export {
  COMPOSE,
  type ComposeService,
  type ComposeTopology,
  type ComposeWorkload,
  type OutboundPort,
  serviceOf,
  sidecarName,
  workloadsOf,
} from './envoy/compose';
export { compareWithDir, DEFAULT_STAGE, ENVOY_DIR, renderStage } from './envoy/files';
export { type EnvoyObject } from './envoy/envoy';
export { UnsupportedPolicyError } from './envoy/rbac';
export { renderComposeSidecars, type RenderedSidecar, type RenderOptions } from './envoy/render';
export { DEFAULT_SAMPLING_PERCENT, tracingSamplingPercent } from './envoy/telemetry';
