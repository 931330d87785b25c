// `meridian token create --region NAME [--ttl 24h]`: a join token for a zone
// controller. Only the token goes to stdout, so `$(meridian token create ...)`
// captures exactly it; the expiry goes to stderr.
import { AdminClient, connectionFromArgs, connectionOptions, connectionUsage } from '../admin-client';
import { parseCommandArgs, stringOption } from '../args';
import { UsageError } from '../errors';
import { createProxyToken } from '../../lib/auth/proxy-token';
import { certificateFingerprint } from '../../lib/pki';
import { createInstanceToken, instanceTokenUsage } from './instance-token';

export const usage = `Usage: meridian token create --region NAME [--ttl DURATION] [--proxy] [--server URL] [--token TOKEN]

Creates a join token with which the region's zone controller joins the global
controller. Prints the token alone on stdout, and its expiry and the mesh
root's fingerprint (what --ca-fingerprint pins) on stderr. Needs an admin token.

  --region NAME     the region the token is for
  --ttl DURATION    how long it is valid: 30m, 24h, ... (default 24h)
  --proxy           a proxy bootstrap token instead (mpt1.<secret>.<root sha256>): give the
                    same file to the region's zone controller (--proxy-token-file) and its
                    edges and ingresses (--zone-token-file). Made here from the active root;
                    it does not expire; make a new one after a root rotation.

${connectionUsage}

Example:
  JOIN_TOKEN=$(meridian token create --region fra --ttl 1h)

${instanceTokenUsage}`;

interface TokenResponse {
  token: string;
  region: string;
  expiresAt: string;
  rootFingerprint?: string;
}

export async function run(argv: string[]): Promise<void> {
  const args = parseCommandArgs('token', argv, {
    region: { type: 'string' },
    ttl: { type: 'string' },
    proxy: { type: 'boolean' },
    instance: { type: 'boolean' },
    service: { type: 'string' },
    ...connectionOptions,
  });
  if (args.help) return void process.stdout.write(usage);
  const [sub, ...rest] = args.positionals;
  if (sub !== 'create') throw new UsageError(sub ? `unknown token command "${sub}"` : 'missing "create"', 'token');
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, 'token');
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
  process.stderr.write(`token for region ${res.region ?? region} expires at ${res.expiresAt}\n`);
  // What clients pin the admin API and the federation port by (--ca-fingerprint).
  if (res.rootFingerprint) process.stderr.write(`mesh root CA: ${res.rootFingerprint}\n`);
}
