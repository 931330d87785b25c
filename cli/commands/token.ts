// `meridian token create|list|revoke`: join tokens for zone controllers.
// `create` prints the token alone on stdout, so `$(meridian token create ...)`
// captures exactly it; its id and expiry go to stderr. With --instance, the
// same words act on instance tokens (./instance-token.ts).
import { AdminClient, connectionFromArgs, connectionOptions, connectionUsage } from '../admin-client';
import { parseCommandArgs, stringOption, type ParsedArgs } from '../args';
import { UsageError } from '../errors';
import { formatTable } from '../table';
import { createProxyToken } from '../../lib/auth/proxy-token';
import { certificateFingerprint } from '../../lib/pki';
import { createInstanceToken, instanceTokenUsage, listInstanceTokens, revokeInstanceToken } from './instance-token';

// The instance tokens' own options (./instance-token.ts), when it has any.
function instanceOptions(): string {
  const text: string = instanceTokenUsage;
  return text ? `\n${text.trimEnd()}\n` : '';
}

export const usage = `Usage: meridian token create --region NAME [--ttl DURATION] [--proxy] [--server URL] [--token TOKEN]
       meridian token list [-o json] [--server URL] [--token TOKEN]
       meridian token revoke ID [--server URL] [--token TOKEN]

create   Makes a join token with which the region's zone controller joins the
         global controller. It is good for one join: the zone that uses it
         first gets the region's zone CA, and every later use is refused (a
         zone that has joined comes back over mutual TLS without it). Prints
         the token alone on stdout; its id, expiry and the mesh root's
         fingerprint (what --ca-fingerprint pins) on stderr. Needs an admin
         token.
list     Shows every join token's id, region, state (unused, used, revoked,
         expired), when it was made, when it expires, and when and by which
         zone it was used. Never the tokens themselves. A read token will do.
revoke   Revokes a join token by its id (from list); an unused one then joins
         nothing. Needs an admin token.

  --region NAME     the region the token is for
  --ttl DURATION    how long it is valid: 30m, 24h, ... (default 24h, at most 168h: 7 days)
  --proxy           a proxy bootstrap token instead (mpt1.<secret>.<root sha256>): give the
                    same file to the region's zone controller (--proxy-token-file) and its
                    edges and ingresses (--zone-token-file). Made here from the active root;
                    it does not expire; make a new one after a root rotation.
  --instance        instance tokens instead of join tokens, for create, list and revoke
  -o, --output json list: the API's JSON instead of a table
${instanceOptions()}
${connectionUsage}

Examples:
  JOIN_TOKEN=$(meridian token create --region fra --ttl 1h)
  meridian token list
  meridian token revoke 3f9c0a7d12e4b856
`;

interface TokenResponse {
  token: string;
  id?: string;
  region: string;
  expiresAt: string;
  rootFingerprint?: string;
}

export interface JoinTokenView {
  id: string;
  region: string;
  state: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
  usedBy: string | null;
  revokedAt: string | null;
}

export async function run(argv: string[]): Promise<void> {
  const args = parseCommandArgs('token', argv, {
    region: { type: 'string' },
    ttl: { type: 'string' },
    proxy: { type: 'boolean' },
    instance: { type: 'boolean' },
    service: { type: 'string' },
    output: { type: 'string', short: 'o' },
    ...connectionOptions,
  });
  if (args.help) return void process.stdout.write(usage);
  const [sub, ...rest] = args.positionals;
  switch (sub) {
    case 'create':
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, 'token');
      return create(args);
    case 'list':
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, 'token');
      if (args.values.instance) return listInstanceTokens(args);
      return list(args);
    case 'revoke': {
      const [id, ...more] = rest;
      if (!id) throw new UsageError('missing the ID of the token to revoke (meridian token list shows them)', 'token');
      if (more.length > 0) throw new UsageError(`unexpected argument "${more[0]}"`, 'token');
      if (args.values.instance) return revokeInstanceToken(args, id);
      return revoke(args, id);
    }
    default:
      throw new UsageError(sub ? `unknown token command "${sub}": use create, list or revoke` : 'missing "create", "list" or "revoke"', 'token');
  }
}

async function create(args: ParsedArgs): Promise<void> {
  if (args.values.instance) return createInstanceToken(args);
  const region = stringOption(args, 'region');
  if (!region) throw new UsageError('missing --region NAME', 'token');
  const ttl = stringOption(args, 'ttl');
  const client = new AdminClient(connectionFromArgs(args));
  if (args.values.proxy) {
    const ca = await client.getJson<{ trustBundle: string[] }>('/v1/ca');
    const rootFingerprint = certificateFingerprint(ca.trustBundle[0]!);
    process.stdout.write(`${createProxyToken(rootFingerprint)}\n`);
    process.stderr.write(`proxy token for region ${region}: give it to its zone controller and proxies; it does not expire\n`);
    return;
  }
  const res = await client.postJson<TokenResponse>('/v1/tokens', ttl === undefined ? { region } : { region, ttl });
  process.stdout.write(`${res.token}\n`);
  const id = res.id ? ` ${res.id}` : '';
  process.stderr.write(`token${id} for region ${res.region ?? region} expires at ${res.expiresAt}; it is good for one join\n`);
  // What clients pin the admin API and the federation port by (--ca-fingerprint).
  if (res.rootFingerprint) process.stderr.write(`mesh root CA: ${res.rootFingerprint}\n`);
}

async function list(args: ParsedArgs): Promise<void> {
  const output = stringOption(args, 'output');
  if (output !== undefined && output !== 'json') throw new UsageError(`unknown output format "${output}": use json`, 'token');
  const client = new AdminClient(connectionFromArgs(args));
  const body = await client.getJson<{ tokens: JoinTokenView[] }>('/v1/tokens');
  if (output === 'json') return void process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  process.stdout.write(joinTokenTable(body.tokens ?? []));
}

export function joinTokenTable(tokens: JoinTokenView[]): string {
  if (tokens.length === 0) return 'No join tokens.\n';
  return formatTable(
    ['ID', 'REGION', 'STATE', 'CREATED', 'EXPIRES', 'USED', 'USED BY'],
    tokens.map((t) => [t.id, t.region, t.state, t.createdAt, t.expiresAt, t.usedAt ?? '-', t.usedBy ?? '-']),
  );
}

async function revoke(args: ParsedArgs, id: string): Promise<void> {
  const client = new AdminClient(connectionFromArgs(args));
  const res = await client.delete<JoinTokenView>(`/v1/tokens/${encodeURIComponent(id)}`);
  process.stdout.write(`join token ${res.id} (region ${res.region}) revoked${res.usedBy ? `; it had been used by zone ${res.usedBy} at ${res.usedAt}` : ''}\n`);
}
