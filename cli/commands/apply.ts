// `meridian apply -f FILE|DIR|-`: every document of every source in one
// POST /v1/apply, so that the server applies all of them or none.
import { AdminClient, connectionFromArgs, connectionOptions, connectionUsage } from '../admin-client';
import { AdminApiError, describeDetail } from '../admin-errors';
import { parseCommandArgs, stringListOption } from '../args';
import { loadDocuments, type DocumentOrigin } from '../document-sources';
import { CliError, UsageError } from '../errors';

export const usage = `Usage: meridian apply -f FILE|DIR|- [-f ...] [--server URL] [--token TOKEN]

Creates or updates resources from YAML or JSON documents, all or nothing.

  -f, --filename PATH   a file, a directory (its *.yaml, *.yml and *.json files,
                        by name) or - for stdin; may be repeated

${connectionUsage}

Example:
  meridian apply -f examples/
`;

interface ApplyResponse {
  revision: number;
  results: { kind: string; name: string; action: string }[];
}

export async function run(argv: string[]): Promise<void> {
  const args = parseCommandArgs('apply', argv, {
    filename: { type: 'string', short: 'f', multiple: true },
    ...connectionOptions,
  });
  if (args.help) return void process.stdout.write(usage);
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`, 'apply');
  const sources = stringListOption(args, 'filename');
  if (sources.length === 0) throw new UsageError('missing -f FILE|DIR|-', 'apply');

  const { documents, origins } = await loadDocuments(sources);
  const client = new AdminClient(connectionFromArgs(args));
  let response: ApplyResponse;
  try {
    response = await client.postJson<ApplyResponse>('/v1/apply', documents);
  } catch (err) {
    throw withSources(err, origins);
  }
  const lines = (response.results ?? []).map((r) => `${String(r.kind).toLowerCase()}/${r.name} ${r.action}\n`);
  process.stdout.write(lines.join(''));
}

// The server counts documents in the list it got; the user thinks in files.
function withSources(err: unknown, origins: DocumentOrigin[]): unknown {
  if (!(err instanceof AdminApiError) || err.status !== 400 || err.details.length === 0) return err;
  return new CliError(
    err.details.map((d) => {
      const origin = typeof d.index === 'number' ? origins[d.index] : undefined;
      return describeDetail(d, origin && describeOrigin(origin));
    }),
  );
}

function describeOrigin(o: DocumentOrigin): string {
  return o.countInSource > 1 ? `${o.source} (its document ${o.indexInSource})` : o.source;
}
