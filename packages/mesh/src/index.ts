export {
  authorize,
  type AuthorizationPolicyInput,
  type Decision,
  type EvaluateOptions,
  matchValue,
  mtlsMode,
  normalizePath,
  type Peer,
  type PeerAuthenticationInput,
  type Request,
  type Workload,
} from './authz';
export { startAdmin } from './admin';
export { type KeyPair, LocalCa, spiffeIdOfPeer, type WorkloadCertificate } from './ca';
export { type ConfigStatus, DataPlane, type DataPlaneOptions } from './data-plane';
export { formatDuration, parseDuration } from './duration';
export { type ConfigProblem, MeshConfigError } from './errors';
export {
  parseSpiffeId,
  principalOf,
  principalOfSpiffeId,
  spiffeIdOf,
  type WorkloadIdentity,
} from './identity';
export { listStages, loadMeshConfig, type LoadOptions, type MeshConfig } from './load';
export {
  clusterName,
  clusterPolicy,
  type ClusterPolicy,
  DEFAULT_RETRY_POLICY,
  type ResolvedConnectionPool,
  type ResolvedDestination,
  type ResolvedFault,
  type ResolvedOutlierDetection,
  type ResolvedRetryPolicy,
  type ResolvedRoute,
  resolveRetries,
  resolveRoutes,
  UNLIMITED,
  virtualServiceFor,
} from './policy';
export { type MeshWorkload, type ProxySpec } from './proxy';
export type * from './types';
export {
  COMPOSE,
  type ComposeService,
  type ComposeTopology,
  type ComposeWorkload,
  type OutboundPort,
  serviceOf,
  sidecarName,
} from './envoy/compose';
export { compareWithDir, DEFAULT_STAGE, renderStage } from './envoy/files';
export { type EnvoyObject } from './envoy/envoy';
export { UnsupportedPolicyError } from './envoy/rbac';
export { renderComposeSidecars, type RenderedSidecar, type RenderOptions } from './envoy/render';
export { DEFAULT_SAMPLING_PERCENT, tracingSamplingPercent } from './envoy/telemetry';
