// Process signals of a running gateway: SIGTERM and SIGINT drain it and exit
// 0 (a second one exits at once, 1); SIGHUP reloads a static config.
import type { Logger } from '../../lib/observability/logger';

// What the signals act on (gateway.ts is one).
export interface DrainableGateway {
  readonly logger: Logger;
  drain(): Promise<void>;
}

export interface SignalOptions {
  reload?: () => void;
  // Called after the drain instead of process.exit (tests).
  exit?: (code: number) => void;
}

export function installSignalHandlers(gateway: DrainableGateway, options: SignalOptions = {}): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let signalled = false;
  const onStop = (signal: NodeJS.Signals) => {
    if (signalled) {
      gateway.logger.warn({ signal }, 'second signal: exiting now');
      exit(1);
      return;
    }
    signalled = true;
    gateway.logger.info({ signal }, 'signal received: draining');
    gateway.drain().then(
      () => exit(0),
      (err: Error) => {
        gateway.logger.error({ err: err.message }, 'drain failed');
        exit(1);
      },
    );
  };
  const onHup = () => options.reload?.();
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHup);
  return () => {
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
    process.off('SIGHUP', onHup);
  };
}
