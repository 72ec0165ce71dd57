import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { round } from './stats';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU time (user + system, all threads) a process has used so far, in ms; undefined off Linux. */
export function cpuTimeMs(pid: number): number | undefined {
  try {
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / clockTicks() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU time each named process spent while `work` ran, divided by `units` (requests, images): where
 * the cost of one unit goes. Empty when /proc is not there.
 */
export async function cpuPerUnit<T>(
  pids: Record<string, number>,
  work: () => Promise<T>,
  units: (result: T) => number,
): Promise<{ result: T; cpuMsPerUnit: Record<string, number> }> {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuTimeMs(pid)]));
  const result = await work();
  const count = units(result);
  const cpuMsPerUnit: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const start = before[name];
    const end = cpuTimeMs(pid);
    if (start !== undefined && end !== undefined && count > 0)
      cpuMsPerUnit[name] = round((end - start) / count, 3);
  }
  return { result, cpuMsPerUnit };
}
