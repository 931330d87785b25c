// A rejection nobody handled or an exception nobody caught leaves a part in a
// state nobody designed: some timers and servers still run, others are gone.
// Rather than serve half-dead, the part logs the error (message and stack, for
// the operator's log only), counts it, flushes the log and exits with
// EXIT_FATAL so its supervisor (systemd, the cluster primary) starts it again.
import type { Logger } from '../observability/logger';
import { prom, type Registry } from '../observability/metrics';

// EX_SOFTWARE from sysexits.h: an internal software error.
export const EXIT_FATAL = 70;

export type FatalKind = 'unhandled-rejection' | 'uncaught-exception';

export interface FatalErrorHandlerOptions {
  logger: Logger;
  // The part's metrics registry, when it has one by the time of installing.
  registry?: Registry;
  // Bounds the wait for the log to drain before exiting anyway.
  flushTimeoutMs?: number;
  // Replaced only by unit tests of this module.
  exit?: (code: number) => void;
}

const COUNTER_NAME = 'meridian_process_fatal_errors_total';

// Installs the two handlers once per process; a second call only adds its
// logger and registry's counter to the first (the edge's primary and the
// gateway in one process, for instance, share one pair of handlers).
let installed: { loggers: Logger[]; counters: prom.Counter<'kind'>[]; exit: (code: number) => void; flushTimeoutMs: number } | undefined;

export function installFatalErrorHandlers(options: FatalErrorHandlerOptions): void {
  const counter = options.registry ? fatalErrorCounter(options.registry) : undefined;
  if (installed) {
    installed.loggers.push(options.logger);
    if (counter) installed.counters.push(counter);
    return;
  }
  const state = {
    loggers: [options.logger],
    counters: counter ? [counter] : [],
    exit: options.exit ?? ((code: number) => process.exit(code)),
    flushTimeoutMs: options.flushTimeoutMs ?? 2_000,
  };
  installed = state;
  let exiting = false;
  const onFatal = (kind: FatalKind, reason: unknown) => {
    // A second error while the first is being flushed is logged too, but the
    // exit is already on its way.
    const err = reason instanceof Error ? reason : new Error(`non-error value: ${String(reason)}`);
    const message = kind === 'unhandled-rejection' ? 'unhandled promise rejection; exiting so the supervisor restarts the process' : 'uncaught exception; exiting so the supervisor restarts the process';
    for (const c of state.counters) c.inc({ kind });
    for (const logger of state.loggers) {
      try {
        logger.fatal({ kind, err }, message);
      } catch {
        process.stderr.write(`${message}: ${err.stack ?? err.message}\n`);
      }
    }
    if (exiting) return;
    exiting = true;
    process.exitCode = EXIT_FATAL;
    void flushAll(state.loggers, state.flushTimeoutMs).then(() => state.exit(EXIT_FATAL));
  };
  process.on('unhandledRejection', (reason) => onFatal('unhandled-rejection', reason));
  process.on('uncaughtException', (err) => onFatal('uncaught-exception', err));
}

function fatalErrorCounter(registry: Registry): prom.Counter<'kind'> {
  const existing = registry.getSingleMetric(COUNTER_NAME);
  if (existing) return existing as prom.Counter<'kind'>;
  const counter = new prom.Counter({
    name: COUNTER_NAME,
    help: 'Unhandled promise rejections and uncaught exceptions; each one ends the process with exit code 70',
    labelNames: ['kind'],
    registers: [registry],
  });
  // Both series exist from the start, so a dashboard sees 0 rather than nothing.
  counter.inc({ kind: 'unhandled-rejection' }, 0);
  counter.inc({ kind: 'uncaught-exception' }, 0);
  return counter;
}

function flushAll(loggers: Logger[], timeoutMs: number): Promise<void> {
  const flushes = loggers.map(
    (logger) =>
      new Promise<void>((resolve) => {
        try {
          logger.flush(() => resolve());
        } catch {
          resolve();
        }
      }),
  );
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    void Promise.all(flushes).then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
