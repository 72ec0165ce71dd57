/**
 * A command line a program cannot act on: an unknown option, a bad value, a missing argument. The
 * project's CLIs (npm start's launcher, npm run invoke, render-envoy...) print its message with a
 * pointer to their --help and exit with status 2, the shell's convention for bad usage; any other
 * error is a failure of the work itself (status 1).
 */
export class UsageError extends Error {
  override name = 'UsageError';
}
