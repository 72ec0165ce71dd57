import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Express } from 'express';
import { type Logger, shutdownTracing } from '@twin/observability';
import { onStopRequest, reportListening, type StopReason } from './lifecycle';
import { errorHandler, notFound } from './middleware';

export interface RunOptions {
  app: Express;
  port: number;
  /** The address to listen on: 127.0.0.1 on a laptop, 0.0.0.0 in a container (its HOST variable). */
  host: string;
  logger: Logger;
  /** Releases the service's own resources (clients, pools) once requests have drained. */
  onShutdown?: () => Promise<void> | void;
  /** How long in-flight requests get to finish after SIGTERM. */
  drainMs?: number;
}

/** Adds the shared tail of the middleware chain: JSON 404 and the error handler. */
export function finishApp(app: Express, logger: Logger): Express {
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}

/**
 * Listens on `host:port` (0: a port the OS picks, reported to a launcher over IPC: see
 * `reportListening`), and when asked to stop (SIGTERM, SIGINT, SIGHUP, or the launcher that
 * started it over IPC going away: see `onStopRequest`) stops accepting connections, lets in-flight
 * requests finish for up to `drainMs`, flushes spans and exits 0. Node as PID 1 would otherwise
 * ignore SIGTERM.
 */
export function runService({
  app,
  port,
  host,
  logger,
  onShutdown,
  drainMs = 8000,
}: RunOptions): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      logger.info({ host, port: bound }, 'listening');
      reportListening(bound);
      resolve(server);
    });
    server.once('error', reject);
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;

    // While draining, each answer closes its connection: clients do not reuse it, and the server
    // need not wait for keep-alive connections to time out before it can exit.
    const open = new Set<ServerResponse>();
    let stopping = false;
    server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
      if (stopping) res.setHeader('connection', 'close');
      open.add(res);
      res.once('close', () => {
        open.delete(res);
        if (stopping) server.closeIdleConnections();
      });
    });

    const stop = (reason: StopReason) => {
      stopping = true;
      for (const res of open) if (!res.headersSent) res.setHeader('connection', 'close');
      logger.info({ reason }, 'draining');
      const force = setTimeout(() => server.closeAllConnections(), drainMs).unref();
      server.close(async () => {
        clearTimeout(force);
        try {
          await onShutdown?.();
          // A collector that is gone must not turn a clean stop into a failure.
          await shutdownTracing().catch((err: Error) => logger.warn({ err }, 'spans could not be flushed'));
          logger.info('stopped');
          process.exit(0);
        } catch (err) {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        }
      });
      server.closeIdleConnections();
    };
    onStopRequest(stop);
  });
}

/** Runs a service's main, turning a start-up failure (bad config, port taken) into a clear exit 1. */
export function main(start: () => Promise<unknown>): void {
  start().catch((err: Error) => {
    process.stderr.write(`${err.name === 'ConfigError' ? err.message : (err.stack ?? String(err))}\n`);
    process.exit(1);
  });
}
