import { parseCommandLine } from '../src/settings';

describe('the command line of npm run bench and npm run compare', () => {
  it('has defaults for a full run, and shorter ones for a smoke run', () => {
    const full = parseCommandLine([]).settings;
    expect(full).toMatchObject({
      quick: false,
      duration: 3,
      rounds: 5,
      tracingStacks: 3,
      coldRuns: 9,
      thumbnailJobs: 60,
    });
    expect(full.load).toEqual({ connections: 50, warmupRequests: 5000, requests: 10_000 });
    const quick = parseCommandLine(['--quick']).settings;
    expect(quick).toMatchObject({
      quick: true,
      duration: 1,
      rounds: 1,
      tracingStacks: 1,
      coldRuns: 2,
      thumbnailJobs: 4,
    });
    expect(quick.warmup.maxRuns).toBe(1);
  });

  it("lets each burst's quiet spell outlast the emulator's idle time, so that it reclaims environments first", () => {
    for (const { burst, sidecarRate } of [parseCommandLine([]), parseCommandLine(['--quick'])].map(
      (line) => line.settings,
    )) {
      expect(Number.isInteger(burst.idleTimeoutSeconds)).toBe(true);
      expect(burst.idleTimeoutSeconds).toBeGreaterThanOrEqual(1);
      expect(burst.idleMs).toBeGreaterThan(burst.idleTimeoutSeconds * 1000);
      expect(sidecarRate).toBe(200);
    }
  });

  it('takes the scenarios to run with --only, in the order given', () => {
    expect(parseCommandLine(['--only', 'thumbnails']).only).toEqual(['thumbnails']);
    expect(parseCommandLine(['--only', 'cold-start, thumbnails']).only).toEqual(['cold-start', 'thumbnails']);
    expect(parseCommandLine([]).only).toBeUndefined();
    expect(() => parseCommandLine(['--only', ' , '])).toThrow('--only: name a scenario');
  });

  it('refuses a value that is not a number in range, naming the option', () => {
    expect(() => parseCommandLine(['--rounds', 'many'])).toThrow("--rounds: 'many' is not a number >= 1");
    expect(() => parseCommandLine(['--rounds', '0'])).toThrow("--rounds: '0' is not a number >= 1");
    expect(() => parseCommandLine(['--cold-fraction', '1.5'])).toThrow(
      "--cold-fraction: '1.5' is not a number within 0..1",
    );
    expect(parseCommandLine(['--cold-fraction', '0']).settings.coldStartFraction).toBe(0);
  });

  it('refuses an option it does not know', () => {
    expect(() => parseCommandLine(['--rows', '3'])).toThrow("Unknown option '--rows'");
  });
});
