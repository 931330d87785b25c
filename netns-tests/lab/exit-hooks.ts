// Teardown that runs however the test process ends: normally, by an uncaught
// error, or by Ctrl-C / SIGTERM / SIGHUP (a SIGKILL leaves things behind:
// netns-tests/cleanup is for that). Handlers are synchronous because an
// 'exit' handler cannot await.

type SyncTeardown = () => void;

const teardowns = new Set<SyncTeardown>();
let installed = false;

const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

function runAll(): void {
  for (const t of [...teardowns]) {
    teardowns.delete(t);
    try {
      t();
    } catch (err) {
      process.stderr.write(`lab teardown failed: ${(err as Error).message}\n`);
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const [signal, code] of Object.entries(SIGNAL_EXIT) as [NodeJS.Signals, number][]) {
    process.on(signal, () => {
      process.stderr.write(`${signal}: tearing the lab down\n`);
      runAll();
      process.exit(code);
    });
  }
}

export function onExit(teardown: SyncTeardown): () => void {
  install();
  teardowns.add(teardown);
  return () => teardowns.delete(teardown);
}
