// `meridian delete KIND NAME`.
import { pluralOf, singularOf } from '../../lib/resources';
import { AdminClient, connectionFromArgs, connectionOptions, connectionUsage, resourcePath } from '../admin-client';
import { parseCommandArgs } from '../args';
import { UsageError } from '../errors';
import { kindArgument } from '../resource-kind';

export const usage = `Usage: meridian delete KIND NAME [--server URL] [--token TOKEN]

Deletes one resource.

${connectionUsage}

Example:
  meridian delete service echo
`;

export async function run(argv: string[]): Promise<void> {
  const args = parseCommandArgs('delete', argv, { ...connectionOptions });
  if (args.help) return void process.stdout.write(usage);
  const [word, name, ...rest] = args.positionals;
  if (!word || !name) throw new UsageError('missing KIND and NAME', 'delete');
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, 'delete');

  const kind = kindArgument(word);
  const client = new AdminClient(connectionFromArgs(args));
  await client.delete(resourcePath(pluralOf(kind), name));
  process.stdout.write(`${singularOf(kind)}/${name} deleted\n`);
}
