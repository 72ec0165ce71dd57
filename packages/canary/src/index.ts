export { CommandError, run, shellLine } from './commands';
export { compareErrorRates, type ErrorCount, type ErrorRateComparison, wilsonInterval } from './error-rates';
export { compareLatencies, type LatencyComparison } from './latency';
export {
  type Check,
  type Decision,
  DEFAULT_SETTINGS,
  errorRateBound,
  formatP,
  formatVerdict,
  judgeStage,
  type JudgeSettings,
  type LatencyMargin,
  type Verdict,
  type VersionObservation,
} from './judge';
export { aliasUpdate, LambdaTarget, type LambdaTargetOptions } from './lambda-target';
export { drive, type Reply, summarizeOutcomes } from './load';
export { MeshTarget, type MeshTargetOptions, parseSubsetCounters, type SubsetCounters } from './mesh-target';
export { JUDGED_STAGES, type Outcome, runCanary, type RunSettings } from './run';
export type { CanaryTarget, Stage, StageProbe } from './target';
