/** What Lambda's REPORT line tells about one invocation. */
export interface Report {
  requestId: string;
  /** The invocation's own time (ms), init excluded. */
  durationMs: number;
  memorySizeMb: number;
  /** Peak memory of the environment (MB), when it could be read. */
  maxMemoryUsedMb?: number;
  /** The INIT phase of a new environment (ms): on cold starts only. */
  initDurationMs?: number;
  /** Set when the platform ended the invocation: a timeout, or the runtime gone (with its error type). */
  status?: 'timeout' | 'error';
  errorType?: string;
}

// The lines Lambda writes to a function's log stream around each invocation, tab-separated as
// CloudWatch Logs shows them (see the Runtime Interface Emulator's printEndReports).

export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

/**
 * Billed Duration is rounded up to the millisecond and, since August 2025, includes the INIT phase
 * of on-demand functions' cold starts.
 */
export function billedDurationMs(report: Pick<Report, 'durationMs' | 'initDurationMs'>): number {
  return Math.ceil(report.durationMs + (report.initDurationMs ?? 0));
}

export function reportLine(report: Report): string {
  const fields = [
    `REPORT RequestId: ${report.requestId}`,
    `Duration: ${report.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${billedDurationMs(report)} ms`,
    `Memory Size: ${report.memorySizeMb} MB`,
    ...(report.maxMemoryUsedMb !== undefined ? [`Max Memory Used: ${report.maxMemoryUsedMb} MB`] : []),
    ...(report.initDurationMs !== undefined ? [`Init Duration: ${report.initDurationMs.toFixed(2)} ms`] : []),
    ...(report.status ? [`Status: ${report.status}`] : []),
    ...(report.errorType ? [`Error Type: ${report.errorType}`] : []),
  ];
  return fields.join('\t');
}
