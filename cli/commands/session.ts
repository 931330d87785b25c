// `meridian session list|end`: the live zone session of each region, and
// ending one (which revokes that zone's CA key: the zone cannot come back
// with its certificate; the region joins again with a new join token).
import { AdminClient, connectionFromArgs, connectionOptions, connectionUsage } from '../admin-client';
import { parseCommandArgs, stringOption, type ParsedArgs } from '../args';
import { UsageError } from '../errors';
import { formatTable } from '../table';

export const usage = `Usage: meridian session list [-o json] [--server URL] [--token TOKEN]
       meridian session end REGION [--server URL] [--token TOKEN]

A region has one live zone session: the federation stream of the zone
controller that holds the region's zone CA key. A zone with another key is
refused while it lives; the same zone restarting replaces it.

list   Shows each region's session: the zone controller's id, the global
       controller replica that serves it, the zone CA key's fingerprint
       (its identity), since when, and whether it joined on a join token or
       came back over mutual TLS. A read token will do.
end    Ends the region's session and revokes its zone CA key: that zone is
       refused from then on, also with its certificate. The region then
       joins again with a new join token (meridian token create --region R)
       and a new zone CA key. Needs an admin token.

  -o, --output json   list: the API's JSON instead of a table

${connectionUsage}

Examples:
  meridian session list
  meridian session end fra
`;

export interface ZoneSessionView {
  region: string;
  zoneId: string;
  replica: string;
  identity: string;
  since: string;
  auth: string;
}

export async function run(argv: string[]): Promise<void> {
  const args = parseCommandArgs('session', argv, { output: { type: 'string', short: 'o' }, ...connectionOptions });
  if (args.help) return void process.stdout.write(usage);
  const [sub, ...rest] = args.positionals;
  switch (sub) {
    case 'list':
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, 'session');
      return list(args);
    case 'end': {
      const [region, ...more] = rest;
      if (!region) throw new UsageError('missing the REGION whose session to end', 'session');
      if (more.length > 0) throw new UsageError(`unexpected argument "${more[0]}"`, 'session');
      return end(args, region);
    }
    default:
      throw new UsageError(sub ? `unknown session command "${sub}": use list or end` : 'missing "list" or "end"', 'session');
  }
}

async function list(args: ParsedArgs): Promise<void> {
  const output = stringOption(args, 'output');
  if (output !== undefined && output !== 'json') throw new UsageError(`unknown output format "${output}": use json`, 'session');
  const body = await new AdminClient(connectionFromArgs(args)).getJson<{ sessions: ZoneSessionView[] }>('/v1/zone-sessions');
  if (output === 'json') return void process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  process.stdout.write(sessionTable(body.sessions ?? []));
}

export function sessionTable(sessions: ZoneSessionView[]): string {
  if (sessions.length === 0) return 'No live zone sessions.\n';
  return formatTable(
    ['REGION', 'ZONE', 'REPLICA', 'SINCE', 'JOINED', 'ZONE CA KEY'],
    sessions.map((s) => [s.region, s.zoneId, s.replica, s.since, s.auth === 'mtls' ? 'mutual TLS' : 'join token', s.identity]),
  );
}

async function end(args: ParsedArgs, region: string): Promise<void> {
  const res = await new AdminClient(connectionFromArgs(args)).delete<ZoneSessionView & { revokedAt: string }>(`/v1/zone-sessions/${encodeURIComponent(region)}`);
  process.stdout.write(`zone session of region ${res.region} ended (zone ${res.zoneId}); zone CA key ${res.identity} revoked at ${res.revokedAt}\n`);
  process.stdout.write(`the region joins again with a new join token: meridian token create --region ${res.region}\n`);
}
