// The HTTP client of a zone controller's instance registry, for
// `meridian register` and `meridian deregister`.
import { describeNetworkFailure } from './admin-errors';
import type { ParsedArgs } from './args';
import { stringOption } from './args';
import { normalizeServer, REQUEST_TIMEOUT_MS } from './admin-client';
import { CliError } from './errors';

export const DEFAULT_ZONE = 'http://127.0.0.1:7500';

export const zoneUsage = `Connection:
  --zone URL      the zone controller's HTTP API (env MERIDIAN_ZONE, default ${DEFAULT_ZONE})`;

export class ZoneClient {
  readonly server: string;

  constructor(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env) {
    this.server = normalizeServer(stringOption(args, 'zone') || env.MERIDIAN_ZONE || DEFAULT_ZONE);
  }

  async request(method: string, path: string, body?: unknown): Promise<any> {
    const connection = { server: this.server, timeoutMs: REQUEST_TIMEOUT_MS };
    let res: Response;
    try {
      res = await fetch(`${this.server}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw new CliError(describeNetworkFailure(err, connection, 'the zone controller'));
    }
    const text = await res.text();
    let parsed: any = undefined;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    if (!res.ok) {
      const message = typeof parsed?.error === 'string' ? parsed.error : text.split('\n', 1)[0];
      throw new CliError(`the zone controller refused: ${message} (HTTP ${res.status})`);
    }
    return parsed;
  }
}
