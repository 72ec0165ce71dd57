/** Lambda's default quota of concurrent executions per account and Region is 1000; a laptop carries fewer processes. */
export const DEFAULT_ACCOUNT_CONCURRENCY = 100;

/** Why Lambda refused an invocation (TooManyRequestsException's `Reason`). */
export type ThrottleReason =
  'ReservedFunctionConcurrentInvocationLimitExceeded' | 'ConcurrentInvocationLimitExceeded';

export class ConcurrencyError extends Error {
  override name = 'ConcurrencyError';
}

/**
 * The account's concurrency, as Lambda counts it: every invocation in flight holds one unit from the
 * moment it is accepted until it ends (initialization included); a function with
 * `ReservedConcurrentExecutions` draws only from its reservation, the others share what is left
 * unreserved. Past its pool an invocation is throttled, whether or not idle environments exist.
 */
export class AccountConcurrency {
  private readonly inFlight = new Map<string, number>();
  private unreservedInFlight = 0;
  readonly unreserved: number;

  /** Throws ConcurrencyError when the reservations exceed the account's limit. */
  constructor(
    readonly limit: number,
    private readonly reserved: ReadonlyMap<string, number>,
  ) {
    const total = [...reserved.values()].reduce((sum, n) => sum + n, 0);
    if (!Number.isInteger(limit) || limit < 1)
      throw new ConcurrencyError(`account concurrency limit ${limit} is not a positive integer`);
    if (total > limit) {
      throw new ConcurrencyError(
        `functions reserve ${total} concurrent executions, more than the account's ${limit}`,
      );
    }
    this.unreserved = limit - total;
  }

  /** Invocations of `fn` in flight. */
  inUse(fn: string): number {
    return this.inFlight.get(fn) ?? 0;
  }

  /** Invocations in flight across the account. */
  get total(): number {
    return [...this.inFlight.values()].reduce((sum, n) => sum + n, 0);
  }

  /** Takes one unit for `fn`, or says why it is throttled. Call `release(fn)` when the invocation ends. */
  acquire(fn: string): ThrottleReason | undefined {
    const reservation = this.reserved.get(fn);
    if (reservation !== undefined) {
      if (this.inUse(fn) >= reservation) return 'ReservedFunctionConcurrentInvocationLimitExceeded';
    } else {
      if (this.unreservedInFlight >= this.unreserved) return 'ConcurrentInvocationLimitExceeded';
      this.unreservedInFlight += 1;
    }
    this.inFlight.set(fn, this.inUse(fn) + 1);
    return undefined;
  }

  release(fn: string): void {
    this.inFlight.set(fn, Math.max(0, this.inUse(fn) - 1));
    if (!this.reserved.has(fn)) this.unreservedInFlight = Math.max(0, this.unreservedInFlight - 1);
  }
}
