// One JSON line per request, sampled: --access-log-sample (0..1) is the share
// of requests logged. The default is 0.01: at edge rates a line per request
// costs more than the request itself, and metrics count every request
// anyway; pass 1 to log them all (while debugging, in tests). Lines go
// through pino on an asynchronous destination, flushed at exit.
import pino from 'pino';

export const DEFAULT_ACCESS_LOG_SAMPLE = 0.01;

export interface AccessRecord {
  method: string;
  host: string;
  url: string;
  status: number;
  service: string;
  region: string;
  ms: number;
  tries: number;
  requestId: string;
  remote: string | undefined;
  protocol: string;
  lastFailure?: string;
  detail?: string;
}

export class AccessLog {
  private readonly logger: pino.Logger | undefined;
  private readonly destination: pino.DestinationStream & { flushSync?: () => void } | undefined;

  constructor(
    readonly sample: number,
    fields: Record<string, unknown>,
    // For tests: where lines go (default: stdout, asynchronously).
    stream?: pino.DestinationStream,
  ) {
    if (sample <= 0) return;
    this.destination = stream ?? pino.destination({ dest: 1, sync: false, minLength: 4096 });
    this.logger = pino(
      {
        name: 'meridian-edge-access',
        base: { part: 'edge', pid: process.pid, ...fields },
        timestamp: pino.stdTimeFunctions.isoTime,
      },
      this.destination,
    );
  }

  // Cheap when the request is not sampled: one comparison and Math.random.
  wants(): boolean {
    return this.logger !== undefined && (this.sample >= 1 || Math.random() < this.sample);
  }

  write(record: AccessRecord): void {
    this.logger?.info(record, 'request');
  }

  flush(): void {
    try {
      this.destination?.flushSync?.();
    } catch {
      // Not ready yet or closed: nothing to flush.
    }
  }
}
