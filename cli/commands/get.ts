// `meridian get KIND [NAME] [-o json|yaml|wide]`: a table by default, or what
// the server sent, as JSON or YAML.
import { pluralOf } from '../../lib/resources';
import { AdminClient, connectionFromArgs, connectionOptions, connectionUsage, resourcePath } from '../admin-client';
import { parseCommandArgs, stringOption } from '../args';
import { UsageError } from '../errors';
import { kindArgument } from '../resource-kind';
import { resourceTable, type ResourceItem } from '../resource-table';

export const usage = `Usage: meridian get KIND [NAME] [-o json|yaml|wide] [--server URL] [--token TOKEN]

Lists the resources of a kind, or shows one.

  KIND                  regions, services, trafficroutes, resiliencepolicies,
                        failoverpolicies, trafficpermissions, instances or
                        certificates (the singular and the kind name work too;
                        a certificate's private key is never shown)
  -o, --output FORMAT   json or yaml (the stored documents), or wide (more columns)

${connectionUsage}

Examples:
  meridian get regions
  meridian get service echo -o yaml
`;

const OUTPUTS = ['json', 'yaml', 'wide'];

export async function run(argv: string[]): Promise<void> {
  const args = parseCommandArgs('get', argv, {
    output: { type: 'string', short: 'o' },
    ...connectionOptions,
  });
  if (args.help) return void process.stdout.write(usage);
  const [word, name, ...rest] = args.positionals;
  if (!word) throw new UsageError('missing KIND', 'get');
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, 'get');
  const output = stringOption(args, 'output');
  if (output !== undefined && !OUTPUTS.includes(output)) {
    throw new UsageError(`unknown output format "${output}": use json, yaml or wide`, 'get');
  }

  const kind = kindArgument(word);
  const client = new AdminClient(connectionFromArgs(args));
  const path = resourcePath(pluralOf(kind), name);

  if (output === 'yaml') {
    const text = await client.getText(`${path}?output=yaml`, 'application/yaml');
    return void process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
  }
  const body = await client.getJson<unknown>(path);
  if (output === 'json') return void process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);

  const items = name === undefined ? listItems(body) : [body as ResourceItem];
  if (items.length === 0) return void process.stderr.write(`no ${pluralOf(kind)} found\n`);
  process.stdout.write(resourceTable(kind, items, { wide: output === 'wide' }));
}

function listItems(body: unknown): ResourceItem[] {
  const items = (body as { items?: unknown } | null)?.items;
  return Array.isArray(items) ? (items as ResourceItem[]) : [];
}
