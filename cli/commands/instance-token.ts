// `meridian token create|list|revoke --instance`: instance tokens, scoped to a
// region and a service, for `meridian register` and `deregister`. Only the
// token goes to stdout on create, so `$(meridian token create --instance ...)`
// captures exactly it.
import { AdminClient, connectionFromArgs } from '../admin-client';
import { stringOption, type ParsedArgs } from '../args';
import { UsageError } from '../errors';
import { formatTable } from '../table';

export const instanceTokenUsage = `Instance tokens (for meridian register and deregister):
  meridian token create --instance --region NAME --service NAME [--ttl DURATION]
  meridian token list --instance
  meridian token revoke --instance ID

  --instance        an instance token: whoever holds it may register and deregister
                    instances of the service in the region (the zone controller checks it,
                    also while the global controller is away)
  --service NAME    the service, or "*" for every service of the region: a credential for a
                    deployment system that starts them all; hold it like one
  --ttl DURATION    how long it is valid: 12h, 30d, ... (default 30d, at most 365d)
  Revoked tokens are refused by the region's zone controller as soon as the revocation
  reaches it; instances already registered with a revoked token stay until deregistered
  (meridian token list --instance names the token ids; reads show each instance's tokenId).

Example:
  INSTANCE_TOKEN=$(meridian token create --instance --region fra --service echo --ttl 30d)
  meridian register --zone http://10.1.0.5:7500 --token "$INSTANCE_TOKEN" --service echo --address 10.1.2.3 --port 8080
`;

interface InstanceTokenView {
  id: string;
  region: string;
  service: string;
  createdAt: string;
  expiresAt: string;
  revokedAt?: string;
  state: string;
}

export async function createInstanceToken(args: ParsedArgs): Promise<void> {
  const region = stringOption(args, 'region');
  if (!region) throw new UsageError('missing --region NAME (the region whose zone controller takes the token)', 'token');
  const service = stringOption(args, 'service');
  if (!service) throw new UsageError('missing --service NAME (or --service "*" for every service of the region)', 'token');
  if (args.values.proxy) throw new UsageError('--instance and --proxy do not go together', 'token');
  const ttl = stringOption(args, 'ttl');
  const client = new AdminClient(connectionFromArgs(args));
  const res = await client.postJson<InstanceTokenView & { token: string }>('/v1/instance-tokens', ttl === undefined ? { region, service } : { region, service, ttl });
  process.stdout.write(`${res.token}\n`);
  const scope = res.service === '*' ? 'every service' : `service ${res.service}`;
  process.stderr.write(`instance token ${res.id} for ${scope} in region ${res.region} expires at ${res.expiresAt}\n`);
}

export async function listInstanceTokens(args: ParsedArgs): Promise<void> {
  const client = new AdminClient(connectionFromArgs(args));
  const { tokens } = await client.getJson<{ tokens: InstanceTokenView[] }>('/v1/instance-tokens');
  const rows = tokens.map((t) => [t.id, t.region, t.service, t.state, t.createdAt, t.expiresAt, t.revokedAt ?? '']);
  process.stdout.write(formatTable(['ID', 'REGION', 'SERVICE', 'STATE', 'CREATED', 'EXPIRES', 'REVOKED'], rows));
}

export async function revokeInstanceToken(args: ParsedArgs, id: string): Promise<void> {
  const client = new AdminClient(connectionFromArgs(args));
  const res = await client.delete<InstanceTokenView>(`/v1/instance-tokens/${encodeURIComponent(id)}`);
  process.stdout.write(`instance token ${res.id} revoked (region ${res.region}, service ${res.service}) at ${res.revokedAt}\n`);
}
