// The HTTP client of the global controller's admin API (docs/admin-api.md),
// shared by every command that talks to it. Failures come out as CliErrors
// whose lines are ready to print; see admin-errors.ts for their wording.
import type { OptionSpec, ParsedArgs } from './args';
import { stringOption } from './args';
import { AdminApiError, describeNetworkFailure, parseErrorBody } from './admin-errors';
import { CliError } from './errors';

export const DEFAULT_SERVER = 'http://127.0.0.1:7401';
export const REQUEST_TIMEOUT_MS = 10_000;

// Every command that talks to the server accepts these.
export const connectionOptions: OptionSpec = {
  server: { type: 'string' },
  token: { type: 'string' },
};

export const connectionUsage = `Connection:
  --server URL    the global controller's admin API (env MERIDIAN_SERVER, default ${DEFAULT_SERVER})
  --token TOKEN   an admin or read token (env MERIDIAN_TOKEN)`;

export interface ConnectionSettings {
  server: string;
  token?: string;
  timeoutMs: number;
}

export function connectionFromArgs(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): ConnectionSettings {
  const server = normalizeServer(stringOption(args, 'server') || env.MERIDIAN_SERVER || DEFAULT_SERVER);
  const token = stringOption(args, 'token') || env.MERIDIAN_TOKEN || undefined;
  return { server, token, timeoutMs: REQUEST_TIMEOUT_MS };
}

// Accepts `host:port` too: people type the address they passed to --http.
export function normalizeServer(raw: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(`invalid server address "${raw}": expected a URL like ${DEFAULT_SERVER}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`invalid server address "${raw}": only http and https are supported`);
  }
  return url.toString().replace(/\/+$/, '');
}

export class AdminClient {
  constructor(readonly settings: ConnectionSettings) {}

  getJson<T>(path: string): Promise<T> {
    return this.json<T>('GET', path);
  }

  postJson<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('POST', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.json<T>('DELETE', path);
  }

  // For `?output=yaml`: the server's text, as it sent it.
  async getText(path: string, accept: string): Promise<string> {
    return (await this.send('GET', path, { accept })).text;
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, { accept: 'application/json', body });
    if (res.text === '') return undefined as T;
    try {
      return JSON.parse(res.text) as T;
    } catch {
      throw new CliError(`the global controller at ${this.settings.server} answered ${method} ${path} with a body that is not JSON`);
    }
  }

  private async send(
    method: string,
    path: string,
    opts: { accept: string; body?: unknown },
  ): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = { accept: opts.accept, 'user-agent': 'meridian-cli' };
    if (this.settings.token) headers.authorization = `Bearer ${this.settings.token}`;
    let payload: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(opts.body);
    }
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      // One signal bounds the whole exchange, body included.
      const res = await fetch(this.settings.server + path, {
        method,
        headers,
        body: payload,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      text = await res.text();
    } catch (err) {
      throw new CliError(describeNetworkFailure(err, this.settings));
    }
    if (status >= 200 && status < 300) return { status, text };
    const { message, details } = parseErrorBody(text);
    throw new AdminApiError(status, message, details, retryAfter, this.settings);
  }
}

// Path segments come from the user; a slash in a name must not change the route.
export function resourcePath(kind: string, name?: string): string {
  const base = `/v1/resources/${encodeURIComponent(kind)}`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}
