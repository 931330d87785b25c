// Starts an EdgeGateway in this process on 127.0.0.1 ephemeral ports, from
// resource documents (validated as a static config is), for end-to-end tests.
import { Writable } from 'node:stream';
import { silentLogger } from '../../lib/observability/logger';
import { formatValidationError, validateDocuments } from '../../lib/resources';
import { createRegistry } from '../../lib/observability/metrics';
import { MemorySource } from '../config/memory-source';
import { viewFromDocuments } from '../config/static-source';
import type { EdgeView, ViewSource } from '../config/edge-view';
import { EdgeGateway, type EdgeGatewayOptions } from '../gateway';

let version = 0;

export function viewOf(docs: unknown[], region = 'local'): EdgeView {
  const result = validateDocuments(docs);
  if (!result.ok) throw new Error(result.errors.map(formatValidationError).join('\n'));
  return viewFromDocuments(result.documents, region, ++version);
}

export class LogLines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') this.lines.push(JSON.parse(line));
    cb();
  }
}

export interface Harness {
  gateway: EdgeGateway;
  source: MemorySource;
  port: number;
  httpsPort: number;
  accessLog: LogLines;
  setDocs(docs: unknown[]): void;
  stop(): Promise<void>;
}

export async function startGateway(docs: unknown[], options: Partial<EdgeGatewayOptions> = {}): Promise<Harness> {
  const region = options.region ?? 'local';
  const source = new MemorySource(viewOf(docs, region));
  const accessLog = new LogLines();
  const gateway = new EdgeGateway({
    mode: 'edge',
    name: 'test-edge',
    region,
    source: (options.source as ViewSource | undefined) ?? source,
    http: { host: '127.0.0.1', port: 0 },
    logger: silentLogger(),
    registry: createRegistry('edge', false),
    accessLogSample: 1,
    accessLogStream: accessLog,
    ...options,
  });
  await gateway.start();
  return {
    gateway,
    source,
    port: gateway.httpAddress()?.port ?? 0,
    httpsPort: gateway.httpsAddress()?.port ?? 0,
    accessLog,
    setDocs: (next) => source.set(viewOf(next, region)),
    stop: () => gateway.stop(),
  };
}
