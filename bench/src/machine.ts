import os from 'node:os';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGib: number;
  platform: string;
  node: string;
  /** 1-minute load average when the run started and when it ended: other work competing for the CPUs. */
  loadAverage: { start: number; end?: number };
}

export function machineInfo(): MachineInfo {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: { start: Math.round((os.loadavg()[0] ?? 0) * 100) / 100 },
  };
}

export function finishMachineInfo(info: MachineInfo): MachineInfo {
  return {
    ...info,
    loadAverage: { ...info.loadAverage, end: Math.round((os.loadavg()[0] ?? 0) * 100) / 100 },
  };
}

export function describeMachine(info: MachineInfo): string {
  const load = `load average ${info.loadAverage.start}${info.loadAverage.end !== undefined ? ` -> ${info.loadAverage.end}` : ''}`;
  return `${info.cpus} CPUs (${info.cpuModel}), ${info.memoryGib} GiB, ${info.platform}, Node ${info.node}, ${load}`;
}
