// `meridian status [-o json] [--watch]`: the mesh at a glance, from the global
// controller's GET /v1/status, the same picture as the dashboard.
import { AdminApiError } from '../admin-errors';
import { AdminClient, connectionFromArgs, connectionOptions, connectionUsage } from '../admin-client';
import { parseCommandArgs, stringOption } from '../args';
import { CliError, UsageError } from '../errors';
import { paletteFor, type Palette } from '../status/colour';
import { statusText, type MeshStatusBody } from '../status/status-text';

export const usage = `Usage: meridian status [-o json] [--watch] [--server URL] [--token TOKEN]

Shows the mesh as the global controller sees it: per region, whether its zone
is online, its last heartbeat, its edges (announcing or withdrawn), healthy and
total instances per service, and its traffic; then the tunnels between regions
with their last handshake. Coloured on a terminal unless NO_COLOR is set.

  -o, --output json   print the status document (GET /v1/status) as the server sent it
  -w, --watch         redraw every second until Ctrl-C

${connectionUsage}

Examples:
  meridian status
  meridian status --watch
  meridian status -o json | jq '.regions[] | select(.online | not) | .name'
`;

const STATUS_PATH = '/v1/status';
const WATCH_EVERY_MS = 1000;

export async function run(argv: string[]): Promise<void> {
  const args = parseCommandArgs('status', argv, {
    output: { type: 'string', short: 'o' },
    watch: { type: 'boolean', short: 'w' },
    ...connectionOptions,
  });
  if (args.help) return void process.stdout.write(usage);
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`, 'status');
  const output = stringOption(args, 'output');
  if (output !== undefined && output !== 'json') throw new UsageError(`unknown output format "${output}": use json`, 'status');

  const client = new AdminClient(connectionFromArgs(args));
  const palette = paletteFor(process.stdout);
  const frame = output === 'json' ? () => jsonFrame(client) : () => textFrame(client, palette);
  if (args.values.watch !== true) return void process.stdout.write(await frame());
  await watch(client.settings.server, frame, palette, output === 'json');
}

async function jsonFrame(client: AdminClient): Promise<string> {
  const text = await client.getText(STATUS_PATH, 'application/json');
  return text.endsWith('\n') ? text : `${text}\n`;
}

async function textFrame(client: AdminClient, palette: Palette): Promise<string> {
  return statusText(await client.getJson<MeshStatusBody>(STATUS_PATH), palette);
}

// Redraws until SIGINT, then exits 0. A failed fetch is shown and retried on
// the next tick; a refused token ends the watch, as retrying cannot help.
async function watch(server: string, frame: () => Promise<string>, c: Palette, json: boolean): Promise<void> {
  const redraw = process.stdout.isTTY === true && !json;
  let onSigint: () => void = () => undefined;
  const interrupted = new Promise<typeof STOP>((resolve) => (onSigint = () => resolve(STOP)));
  process.once('SIGINT', onSigint);
  try {
    for (let first = true; ; first = false) {
      const started = Date.now();
      const body = await Promise.race([frame().catch((err: unknown) => failedFrame(err, c, json)), interrupted]);
      if (body === STOP) break;
      if (json) process.stdout.write(body);
      else {
        const header = c.dim(`meridian status · ${server} · ${new Date().toLocaleTimeString()} · every 1s, Ctrl-C to stop`);
        // The screen cleared once; then home, each line cleared to its end,
        // and everything below: no flicker.
        if (redraw) process.stdout.write(`${first ? '\x1b[2J' : ''}\x1b[H${`${header}\n\n${body}`.replace(/\n/g, '\x1b[K\n')}\x1b[J`);
        else process.stdout.write(`${header}\n\n${body}\n`);
      }
      let timer: NodeJS.Timeout | undefined;
      const pause = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, WATCH_EVERY_MS - (Date.now() - started)))));
      const woke = await Promise.race([pause, interrupted]);
      clearTimeout(timer);
      if (woke === STOP) break;
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  process.exitCode = 0;
  // A fetch still in flight must not hold the exit back.
  setTimeout(() => process.exit(0), 200).unref();
}

const STOP = Symbol('stop');

function failedFrame(err: unknown, c: Palette, json: boolean): string {
  if (err instanceof AdminApiError && (err.status === 401 || err.status === 403)) throw err;
  if (!(err instanceof CliError)) throw err;
  if (!json) return c.red(`error: ${err.lines[0]} (retrying)`) + '\n';
  process.stderr.write(err.lines.map((l) => `error: ${l} (retrying)\n`).join(''));
  return '';
}
