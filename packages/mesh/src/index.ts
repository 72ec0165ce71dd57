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
export { type ConfigProblem, MeshConfigError } from './errors';
export { principalOf, principalOfSpiffeId, spiffeIdOf } from './identity';
export { listStages, loadMeshConfig, type LoadOptions, type MeshConfig } from './load';
export {
  type ResolvedConnectionPool,
  type ResolvedDestination,
  type ResolvedFault,
  type ResolvedOutlierDetection,
  type ResolvedRetryPolicy,
  type ResolvedRoute,
  resolveRoutes,
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
  sidecarName,
} from './envoy/compose';
export { compareWithDir, DEFAULT_STAGE, renderStage } from './envoy/files';
export { type EnvoyObject } from './envoy/envoy';
export { UnsupportedPolicyError } from './envoy/rbac';
export type { RenderedSidecar } from './envoy/render';
