// The `meridian` command: picks the command module named by the first argument
// and runs it. Modules are required lazily so that each command loads only
// what it uses.
import { CliError, UsageError } from './errors';
import { runPart } from './part-runner';

interface CommandModule {
  usage: string;
  run(argv: string[]): Promise<void>;
}

interface Command {
  synopsis: string;
  summary: string;
  run(argv: string[]): Promise<void>;
}

function command(synopsis: string, summary: string, load: () => CommandModule): Command {
  return { synopsis, summary, run: (argv) => load().run(argv) };
}

function part(name: string, modulePath: string, summary: string): Command {
  return { synopsis: name, summary, run: (argv) => runPart(name, modulePath, argv) };
}

const COMMANDS: Record<string, Command> = {
  apply: command('apply -f FILE|DIR|-', 'create or update resources from YAML or JSON', () => require('./commands/apply')),
  get: command('get KIND [NAME]', 'list resources, or show one', () => require('./commands/get')),
  delete: command('delete KIND NAME', 'delete a resource', () => require('./commands/delete')),
  status: command('status [--watch]', 'show regions, zones, edges, services and tunnels at a glance', () => require('./commands/status')),
  token: command('token create|list|revoke', "create, list and revoke join tokens for regions' zone controllers", () =>
    require('./commands/token'),
  ),
  session: command('session list|end', "show each region's live zone session, or end one", () => require('./commands/session')),
  register: command('register --service S --address IP --port P', "register an instance with a region's zone controller", () =>
    require('./commands/register'),
  ),
  deregister: command('deregister ID', "remove an instance from a region's zone controller", () => require('./commands/deregister')),
  'workload-cert': command('workload-cert --service S --out DIR', "get a workload certificate from a region's zone controller", () =>
    require('./commands/workload-cert'),
  ),
  bootstrap: command('bootstrap --role global|region', 'make this machine a Meridian node (packages, config, keys, systemd units)', () => require('./commands/bootstrap')),
  'global-controller': part('global-controller', '../global-controller/main', 'run the global controller'),
  'zone-controller': part('zone-controller', '../zone-controller/main', "run a region's zone controller"),
  edge: part('edge', '../edge/main', 'run an edge gateway or a zone ingress'),
  demo: part('demo', './demo', 'run etcd, the global controller and three regions on loopback'),
  // The demo starts its echo instances as `meridian echo-server`.
  'echo-server': part('echo-server', './echo-server', 'run an echo service instance (used by the demo)'),
};

const RESOURCE_COMMANDS = ['apply', 'get', 'delete', 'status', 'token', 'session'];
const INSTANCE_COMMANDS = ['register', 'deregister', 'workload-cert'];
const PART_COMMANDS = ['global-controller', 'zone-controller', 'edge', 'demo', 'echo-server', 'bootstrap'];

function usage(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.synopsis.length));
  const lines = (names: string[]) => names.map((n) => `  ${COMMANDS[n].synopsis.padEnd(width)}   ${COMMANDS[n].summary}`);
  return [
    'Usage: meridian <command> [options]',
    '',
    "Resources, through the global controller's admin API:",
    ...lines(RESOURCE_COMMANDS),
    '',
    "Instances, through a zone controller's registry:",
    ...lines(INSTANCE_COMMANDS),
    '',
    "Meridian's parts:",
    ...lines(PART_COMMANDS),
    '',
    "Run 'meridian <command> --help' for the options of a command.",
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(usage());
    process.exitCode = 2;
    return;
  }
  if (name === '--help' || name === '-h') return void process.stdout.write(usage());
  if (name === 'help') {
    // `meridian help get` is `meridian get --help`.
    if (rest[0] === undefined) return void process.stdout.write(usage());
    return dispatch(rest[0], ['--help']);
  }
  return dispatch(name, rest);
}

function dispatch(name: string, argv: string[]): Promise<void> {
  if (!Object.hasOwn(COMMANDS, name)) {
    throw new UsageError(name.startsWith('-') ? `unknown option "${name}"` : `unknown command "${name}"`);
  }
  return COMMANDS[name].run(argv);
}

function report(err: unknown): void {
  if (err instanceof CliError) {
    for (const line of err.lines) process.stderr.write(`error: ${line}\n`);
    process.exitCode = err.exitCode;
    return;
  }
  // Not an expected failure: a bug, or a part that stopped on its own error.
  // One line still; the stack only on request.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: ${message.split('\n')[0]}\n`);
  if (process.env.MERIDIAN_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
}

// `meridian get services | head -1` closes our stdout early; that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv.slice(2)).catch(report);
