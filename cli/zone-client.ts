// The HTTP client of a zone controller's instance registry, for
// `meridian register` and `meridian deregister`.
import { describeNetworkFailure } from './admin-errors';
import type { ParsedArgs } from './args';
import { stringOption } from './args';
import { normalizeServer, REQUEST_TIMEOUT_MS } from './admin-client';
import { CliError } from './errors';
import { commandToken } from './token-source';

export const DEFAULT_ZONE = 'http://127.0.0.1:7500';

export const zoneUsage = `Connection:
  --zone URL      the zone controller's HTTP API (env MERIDIAN_ZONE, default ${DEFAULT_ZONE})
  --token TOKEN   an instance token of the region for the service (env MERIDIAN_INSTANCE_TOKEN;
                  meridian token create --instance --region R --service S)`;

// Options every registry command takes.
export const zoneOptions = {
  zone: { type: 'string' },
  token: { type: 'string' },
} as const;

export class ZoneClient {
  readonly server: string;
  private readonly token: string | undefined;

  constructor(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env) {
    this.server = normalizeServer(stringOption(args, 'zone') || env.MERIDIAN_ZONE || DEFAULT_ZONE);
    this.token = commandToken(stringOption(args, 'token'), '--token', env, 'MERIDIAN_INSTANCE_TOKEN');
  }

  // Writes need an instance token; say so before asking the zone.
  requireToken(command: string): void {
    if (!this.token) {
      throw new CliError(`${command} needs an instance token: --token TOKEN or MERIDIAN_INSTANCE_TOKEN (make one with meridian token create --instance --region R --service S)`);
    }
  }

  // The zone's JSON answer, of the shape the caller names.
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const connection = { server: this.server, timeoutMs: REQUEST_TIMEOUT_MS };
    let res: Response;
    try {
      res = await fetch(`${this.server}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw new CliError(describeNetworkFailure(err, connection, 'the zone controller'));
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    if (!res.ok) {
      const error = (parsed as { error?: unknown } | undefined)?.error;
      const message = typeof error === 'string' ? error : text.split('\n', 1)[0];
      if (res.status === 401) throw new CliError(`the zone controller refused the instance token: ${message} (HTTP 401)`);
      if (res.status === 403) throw new CliError(`the zone controller refused: ${message} (HTTP 403: outside what the token or the region allows)`);
      throw new CliError(`the zone controller refused: ${message} (HTTP ${res.status})`);
    }
    return parsed as T;
  }
}
