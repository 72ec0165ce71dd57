// What both drivers do: read the command line, run the chosen scenarios in order against the parts
// they need, and hand the typed results to the driver's report.
import path from 'node:path';
import { type Cleanup, withCleanup } from './cleanup';
import { describeMachine, finishMachineInfo, machineInfo, type MachineInfo } from './machine';
import {
  isScenarioName,
  ScenarioContext,
  type ScenarioName,
  type ScenarioResults,
  SCENARIOS,
} from './scenarios';
import { OPTIONS_HELP, parseCommandLine, type Settings } from './settings';

export const REPOSITORY_ROOT = path.resolve(__dirname, '..', '..');

/** What one run of `npm run bench` or `npm run compare` measured. */
export interface SuiteResults {
  kind: 'bench' | 'compare';
  startedAt: string;
  finishedAt: string;
  durationSec: number;
  machine: MachineInfo;
  settings: Settings;
  /** The scenarios that ran, in the order they ran. */
  ran: ScenarioName[];
  scenarios: Partial<ScenarioResults>;
}

export interface Driver {
  kind: SuiteResults['kind'];
  /** The first lines of --help: what the driver measures and writes. */
  description: string;
  /** The scenarios it runs without --only, in order. */
  scenarios: ScenarioName[];
  /** Checks the settings before anything runs (e.g. that a prices file reads); throws to refuse them. */
  check?(settings: Settings): void;
  /** Writes the report files and prints the summary. */
  report(results: SuiteResults, cleanup: Cleanup, log: (line: string) => void): Promise<void>;
}

export function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The driver's scenarios first, in its order, then the others: the order runs go in, whatever --only says. */
function runOrder(driver: Driver): ScenarioName[] {
  const others = (Object.keys(SCENARIOS) as ScenarioName[]).filter(
    (name) => !driver.scenarios.includes(name),
  );
  return [...driver.scenarios, ...others];
}

function usage(driver: Driver): string {
  const names = runOrder(driver).map((name) => {
    const scenario = SCENARIOS[name];
    return `  ${name.padEnd(12)} ${scenario.what}${driver.scenarios.includes(name) ? '' : ' (only with --only)'}`;
  });
  return `Usage: npm run ${driver.kind} [-- options]\n\n${driver.description}\n\nScenarios, in the order they run:\n${names.join('\n')}\n\n${OPTIONS_HELP}`;
}

/** Runs a driver with the process's arguments; exits 2 on a bad command line, 1 when a run fails. */
export function main(driver: Driver): void {
  let commandLine;
  try {
    commandLine = parseCommandLine(process.argv.slice(2));
    const unknown = commandLine.only?.filter((name) => !isScenarioName(name)) ?? [];
    if (unknown.length > 0) {
      throw new Error(
        `--only: no scenario named ${unknown.join(', ')}; there are ${Object.keys(SCENARIOS).join(', ')}`,
      );
    }
    driver.check?.(commandLine.settings);
  } catch (err) {
    process.stderr.write(`npm run ${driver.kind}: ${(err as Error).message} (see --help)\n`);
    process.exit(2);
  }
  if (commandLine.help) {
    log(usage(driver));
    return;
  }
  const { settings } = commandLine;
  // Scenarios run in the suite's order, whatever order --only names them in.
  const chosen = commandLine.only ?? driver.scenarios;
  const names = runOrder(driver).filter((name) => chosen.includes(name));
  run(driver, settings, names).catch((err: Error) => {
    process.stderr.write(`${driver.kind} failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}

async function run(driver: Driver, settings: Settings, names: ScenarioName[]): Promise<void> {
  const started = Date.now();
  const machine = machineInfo();
  log(`npm run ${driver.kind} on ${describeMachine(machine)}`);
  if (settings.quick) log('A smoke run (--quick): one short round of everything; its figures mean little.');
  await withCleanup(async (cleanup) => {
    const ctx = new ScenarioContext(settings, log, cleanup);
    const scenarios: Partial<ScenarioResults> = {};
    for (const name of names) {
      const scenario = SCENARIOS[name];
      log(`\n${name}: ${scenario.what}`);
      await ctx.release(scenario.stacks);
      // Each entry of SCENARIOS runs under its own name, so the result lands under the right key.
      (scenarios as Record<string, unknown>)[name] = await scenario.run(ctx);
    }
    await ctx.release([]);
    await driver.report(
      {
        kind: driver.kind,
        startedAt: new Date(started).toISOString(),
        finishedAt: new Date().toISOString(),
        durationSec: Math.round((Date.now() - started) / 1000),
        machine: finishMachineInfo(machine),
        settings,
        ran: names,
        scenarios,
      },
      cleanup,
      log,
    );
  });
}
