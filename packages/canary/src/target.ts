import type { VersionObservation } from './judge';
import type { Reply } from './load';

/** The share of traffic on the canary at a stage: 0 is the rollback, 100 the promotion. */
export type Stage = 0 | 10 | 50 | 100;

/** The judge's view of one stage, from its start. */
export interface StageProbe {
  /** Sends `count` more requests at the twin and returns their replies. */
  send(count: number): Promise<Reply[]>;
  /** What each version served since the probe began. */
  observe(): Promise<{ baseline: VersionObservation; canary: VersionObservation }>;
}

/** One twin's canary, as the judge drives it: where the traffic goes, and how to see each version. */
export interface CanaryTarget {
  /** What is judged, e.g. `backend v2 (2.0.0) against v1 (1.0.0), local data plane`. */
  readonly description: string;
  /** Where the per-version counts come from, in a sentence. */
  readonly source: string;
  /** Looks up what it needs (e.g. where an alias points) before the first stage. */
  prepare(): Promise<void>;
  /** Moves `stage` percent of the traffic to the canary; returns what it ran and printed. */
  shift(stage: Stage): Promise<string[]>;
  /** The command `shift(stage)` runs, for --dry-run. */
  shiftCommand(stage: Stage): string;
  /** How the load and the counts are taken, for --dry-run. */
  plan(): string[];
  probe(): Promise<StageProbe>;
}
