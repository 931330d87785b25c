// `meridian deregister ID`: removes an instance from a zone controller's registry.
import { parseCommandArgs } from '../args';
import { UsageError } from '../errors';
import { ZoneClient, zoneOptions, zoneUsage } from '../zone-client';

export const usage = `Usage: meridian deregister ID [--zone URL] [--token TOKEN]

Removes an instance from this region's zone controller; traffic stops going to it.
Needs an instance token of the region for the instance's service.

${zoneUsage}
`;

export async function run(argv: string[]): Promise<void> {
  const args = parseCommandArgs('deregister', argv, { ...zoneOptions });
  if (args.help) return void process.stdout.write(usage);
  const [id, ...rest] = args.positionals;
  if (!id) throw new UsageError('missing ID', 'deregister');
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`, 'deregister');
  const client = new ZoneClient(args);
  client.requireToken('deregister');
  await client.request('DELETE', `/v1/instances/${encodeURIComponent(id)}`);
  process.stdout.write(`instance/${id} deregistered\n`);
}
