// Runs one of Meridian's parts (global controller, zone controller, edge, the
// demo) from its own module. The module is loaded only now, so `meridian get`
// never pays for etcd or gRPC; a build that lacks the part says so in one line.
import { CliError } from './errors';

interface PartModule {
  main(argv: string[]): unknown;
}

export async function runPart(command: string, modulePath: string, argv: string[]): Promise<void> {
  // Resolving first keeps a missing dependency *inside* the part from being
  // mistaken for the part itself being absent.
  let resolved: string;
  try {
    resolved = require.resolve(modulePath);
  } catch (err) {
    if ((err as { code?: string }).code === 'MODULE_NOT_FOUND') throw notAvailable(command);
    throw err;
  }
  const mod = require(resolved) as Partial<PartModule>;
  if (typeof mod.main !== 'function') throw notAvailable(command);
  const result = await mod.main(argv);
  // A part may report its exit status; a long-running one resolves once started.
  if (typeof result === 'number') process.exitCode = result;
}

function notAvailable(command: string): CliError {
  return new CliError(`${command} is not available in this build`);
}
