// The HTTP client of the global controller's admin API (docs/admin-api.md),
// shared by every command that talks to it. Failures come out as CliErrors
// whose lines are ready to print; see admin-errors.ts for their wording.
import { request, type Dispatcher } from 'undici';
import { isLoopbackHost } from '../lib/net/loopback';
import type { OptionSpec, ParsedArgs } from './args';
import { stringOption } from './args';
import { AdminApiError, describeNetworkFailure, parseErrorBody } from './admin-errors';
import { adminDispatcher, describeTrustFailure, trustFromArgs, type AdminTrust } from './admin-tls';
import { CliError } from './errors';
import { commandToken } from './token-source';

export const DEFAULT_SERVER = 'http://127.0.0.1:7401';
export const REQUEST_TIMEOUT_MS = 10_000;

// Every command that talks to the server accepts these.
export const connectionOptions: OptionSpec = {
  server: { type: 'string' },
  token: { type: 'string' },
  'ca-file': { type: 'string' },
  'ca-fingerprint': { type: 'string' },
  insecure: { type: 'boolean' },
};

export const connectionUsage = `Connection:
  --server URL              the global controller's admin API, https://HOST:7401 (env MERIDIAN_SERVER,
                            default ${DEFAULT_SERVER}: plaintext, for a controller on this host)
  --token TOKEN             an admin or read token (env MERIDIAN_TOKEN)
  --ca-file FILE            trust the CAs in this PEM bundle for https:// (env MERIDIAN_CA: a file,
                            or the PEM itself); the certificate must name the host dialled
  --ca-fingerprint SHA256   pin the mesh root, sha256:<hex> from GET /v1/ca or \`meridian token
                            create\` (env MERIDIAN_CA_FINGERPRINT): the server must present the
                            global controller's certificate, signed by that root
                            (neither: the system's CAs)
  --insecure                allow plaintext http:// to an address off this host (env
                            MERIDIAN_INSECURE=1): the token crosses the network in clear`;

export interface ConnectionSettings {
  server: string;
  token?: string;
  timeoutMs: number;
  // How https:// servers are verified (the system's CAs when absent).
  trust?: AdminTrust;
  // Plaintext to a non-loopback address allowed.
  insecure?: boolean;
}

export function connectionFromArgs(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): ConnectionSettings {
  const server = normalizeServer(stringOption(args, 'server') || env.MERIDIAN_SERVER || DEFAULT_SERVER);
  const token = commandToken(stringOption(args, 'token'), '--token', env, 'MERIDIAN_TOKEN');
  const trust = trustFromArgs(args, env);
  const insecure = args.values.insecure === true || env.MERIDIAN_INSECURE === '1' || env.MERIDIAN_INSECURE === 'true';
  return { server, token, timeoutMs: REQUEST_TIMEOUT_MS, trust, insecure };
}

// Plaintext only to this host, unless told: the bearer token would cross the
// network in clear. Checked on the address as given, before any connection.
export function checkPlaintext(settings: ConnectionSettings): void {
  const url = new URL(settings.server);
  if (url.protocol !== 'http:' || settings.insecure || isLoopbackHost(url.hostname)) return;
  throw new CliError(
    `refusing plaintext http to ${settings.server}: the token would cross the network in clear; use https://${url.host} (the admin API's --https listener) with --ca-fingerprint or --ca-file, or give --insecure (MERIDIAN_INSECURE=1) to send it anyway`,
  );
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
  private dispatcher: Dispatcher | undefined;

  constructor(readonly settings: ConnectionSettings) {}

  private agent(): Dispatcher {
    this.dispatcher ??= adminDispatcher(this.settings.trust ?? { kind: 'system' }, this.settings.timeoutMs);
    return this.dispatcher;
  }

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
    checkPlaintext(this.settings);
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      // One signal bounds the whole exchange, body included.
      const res = await request(this.settings.server + path, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body: payload,
        dispatcher: this.agent(),
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      status = res.statusCode;
      const header = res.headers['retry-after'];
      retryAfter = Array.isArray(header) ? (header[0] ?? null) : (header ?? null);
      text = await res.body.text();
    } catch (err) {
      const trustFailure = describeTrustFailure(err, this.settings.trust ?? { kind: 'system' }, this.settings.server);
      throw new CliError(trustFailure ?? describeNetworkFailure(err, this.settings));
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
