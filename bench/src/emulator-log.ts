// What the Lambda emulator's log says about each invocation: its JSON `invocation` record, which
// carries what Lambda's REPORT line carries (duration, and the init on a cold start).

/** One invocation as the emulator logged it; durations in ms. */
export interface LoggedInvocation {
  function: string;
  durationMs: number;
  /** Present on a cold start: the environment's init, which Lambda reports and bills. */
  initDurationMs?: number;
  coldStart: boolean;
}

/** Reads one log line of the emulator; undefined for any line that is not an invocation record. */
export function parseInvocation(line: string): LoggedInvocation | undefined {
  if (!line.includes('"invocation"')) return undefined;
  let entry: {
    msg?: string;
    function?: string;
    durationMs?: number;
    initDurationMs?: number;
    coldStart?: boolean;
  };
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    return undefined;
  }
  if (
    entry.msg !== 'invocation' ||
    typeof entry.function !== 'string' ||
    typeof entry.durationMs !== 'number'
  ) {
    return undefined;
  }
  return {
    function: entry.function,
    durationMs: entry.durationMs,
    initDurationMs: entry.initDurationMs,
    coldStart: entry.coldStart === true || entry.initDurationMs !== undefined,
  };
}
