// Stage by stage: shift, drive load until both versions have the sample a verdict needs, judge, then
// go on, roll back, or stop without a verdict.
import { formatVerdict, judgeStage, type JudgeSettings, type Verdict } from './judge';
import { summarizeOutcomes, type Reply } from './load';
import type { CanaryTarget, Stage } from './target';

/** The stages the judge walks: judged at 10 and 50, promoted at 100 (as the overlays canary-10/50/100). */
export const JUDGED_STAGES = [10, 50] as const;

export interface RunSettings extends JudgeSettings {
  /** Requests per round, between two looks at the counts. */
  batch: number;
  /** The most requests one stage may send before it is judged on what it has. */
  maxRequests: number;
}

export type Outcome = 'promoted' | 'rolled-back' | 'no-verdict';

/**
 * Runs the canary on `target` and prints every step through `print`: each stage's shift (the command
 * and its output), the load sent (requests and their outcomes), the judge's numbers and its verdict.
 * Rounds of `batch` requests go out until each version has served `minRequests` requests and answered
 * `minRequests` of them successfully (a rule on sample sizes only, so looking between rounds does not
 * bias the tests), or `maxRequests` are sent.
 * @returns what became of the canary; the traffic stays at the stage where the judge stopped.
 * @throws CommandError when a shift or a count cannot be done.
 */
export async function runCanary(
  target: CanaryTarget,
  settings: RunSettings,
  print: (line: string) => void,
): Promise<{ outcome: Outcome; verdicts: Verdict[] }> {
  await target.prepare();
  print(`canary: ${target.description}`);
  print(`counts: ${target.source}`);
  const verdicts: Verdict[] = [];
  const shift = async (stage: Stage) => {
    for (const line of await target.shift(stage)) print(`  ${line}`);
  };
  for (const stage of JUDGED_STAGES) {
    print('');
    print(`stage ${stage}: ${stage}% of the traffic on the canary`);
    await shift(stage);
    const probe = await target.probe();
    const replies: Reply[] = [];
    let observation = await probe.observe();
    const enough = () =>
      [observation.baseline, observation.canary].every(
        (v) => v.requests >= settings.minRequests && v.latenciesMs.length >= settings.minRequests,
      );
    while (replies.length < settings.maxRequests && !enough()) {
      replies.push(...(await probe.send(Math.min(settings.batch, settings.maxRequests - replies.length))));
      observation = await probe.observe();
    }
    print(`  load     ${replies.length} requests: ${summarizeOutcomes(replies)}`);
    const verdict = judgeStage(observation.baseline, observation.canary, settings);
    verdicts.push(verdict);
    for (const line of formatVerdict(verdict)) print(line);
    if (verdict.decision === 'rollback') {
      print(`  verdict  ROLL BACK at stage ${stage}: ${verdict.reason}`);
      await shift(0);
      return { outcome: 'rolled-back', verdicts };
    }
    if (verdict.decision === 'no-verdict') {
      print(`  verdict  NONE at stage ${stage}: ${verdict.reason}`);
      print(
        `  the traffic stays at stage ${stage}; run again with a larger --max-requests, or roll back: ${target.shiftCommand(0)}`,
      );
      return { outcome: 'no-verdict', verdicts };
    }
    print(`  verdict  GO ON from stage ${stage}`);
  }
  print('');
  print('stage 100: the canary takes all of the traffic');
  await shift(100);
  print('verdict: PROMOTED');
  return { outcome: 'promoted', verdicts };
}
