export type { ErrorCount, ErrorRateComparison } from './error-rates';
export type { LatencyComparison } from './latency';
export {
  type Check,
  type CheckOutcome,
  type Decision,
  DEFAULT_SETTINGS,
  judgeStage,
  type JudgeSettings,
  type LatencyMargin,
  type Verdict,
  type VersionObservation,
} from './judge';
export { type LambdaKind, LambdaTarget, type LambdaTargetOptions } from './lambda-target';
export type { Reply } from './load';
export { type MeshKind, MeshTarget, type MeshTargetOptions } from './mesh-target';
export { type Outcome, runCanary, type RunSettings } from './run';
export type { CanaryTarget, Stage, StageProbe } from './target';
