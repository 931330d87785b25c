// `meridian deregister ID`: removes an instance from a zone controller's registry.
import { parseCommandArgs } from '../args';
import { UsageError } from '../errors';
import { ZoneClient, zoneUsage } from '../zone-client';

export const usage = `Usage: meridian deregister ID [--zone URL]

Removes an instance from this region's zone controller; traffic stops going to it.

${zoneUsage}
`;

export async function run(argv: string[]): Promise<void> {
  const args = parseCommandArgs('deregister', argv, { zone: { type: 'string' } });
  if (args.help) return void process.stdout.write(usage);
  const [id, ...rest] = args.positionals;
  if (!id) throw new UsageError('missing ID', 'deregister');
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`, 'deregister');
  await new ZoneClient(args).request('DELETE', `/v1/instances/${encodeURIComponent(id)}`);
  process.stdout.write(`instance/${id} deregistered\n`);
}
