// `npm run bench:control-plane`: the control plane at scale. One global
// controller on a real etcd, real zone controller processes, one real edge,
// simulated proxies on the real discovery streams. Prints progress, writes
// bench/results/control-plane[-label].{json,md}, and stops every process it
// started, also on failure, Ctrl-C or the time limit.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { commandLine, runBench } from '../bench-cli';
import { parseOptions, USAGE } from './options';
import { Stack } from './stack';
import { BenchContext } from './bench-context';
import { applyResources, startControlPlane } from './phase-setup';
import { registerInstances, startZones } from './phase-zones';
import { measureMemory } from './phase-memory';
import { newZone } from './phase-new-zone';
import { propagation } from './phase-propagation';
import { churn } from './phase-churn';
import { figures, writeResults } from './report';

// The whole run stops here, whatever state it is in.
const TIME_LIMIT_MS = 15 * 60_000 - 30_000;

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  if (!opts) {
    process.stdout.write(USAGE);
    return 0;
  }
  const command = commandLine('bench:control-plane');
  const startedAt = new Date();
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-bench-cp-'));
  const profDir = path.join(runDir, 'profiles');
  // Node writes profiles and heap snapshots here but does not create it.
  fs.mkdirSync(profDir);
  const stack = new Stack({
    dir: runDir,
    heartbeat: opts.heartbeat,
    logLevel: 'info',
    nodeFlags: (name) => (opts.cpuProf.includes(name) ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${profDir}`] : []),
  });
  const ctx = new BenchContext(opts, stack, runDir, 8);
  console.log(`control-plane bench: ${opts.regions} regions, ${opts.services} services, ${opts.regions * opts.services} instances; run directory ${runDir}`);

  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    ctx.sampler.stop();
    ctx.fleet?.kill();
    ctx.targets?.kill();
    await Promise.allSettled([...ctx.zoneApis.values()].map((a) => a.close()));
    await stack.stop().catch((err) => console.error(`stopping the processes: ${(err as Error).message}`));
  };
  const finish = async (reason?: string): Promise<void> => {
    if (reason) console.log(`stopping: ${reason}`);
    await cleanup();
    const files = writeResults(ctx, command, startedAt);
    console.log('');
    for (const f of figures(ctx)) console.log(`${f.met === null ? '  ' : f.met ? 'ok' : '!!'} ${f.figure}: ${f.measured} (goal ${f.goal})`);
    console.log(`\nresults: ${files.md}\n         ${files.json}`);
    if (opts.keep || opts.cpuProf.length) console.log(`run directory kept: ${runDir}`);
    else fs.rmSync(runDir, { recursive: true, force: true });
  };
  let aborting = false;
  const abort = (reason: string) => {
    if (aborting) return;
    aborting = true;
    void finish(reason).finally(() => process.exit(1));
  };
  // `on`, not `once`: a second signal (timeout(1) forwards one too) must not kill the cleanup.
  process.on('SIGINT', () => abort('interrupted'));
  process.on('SIGTERM', () => abort('terminated'));
  const limit = setTimeout(() => abort(`the ${TIME_LIMIT_MS / 60_000} minute limit`), TIME_LIMIT_MS);
  limit.unref();

  try {
    await ctx.phase('controlPlane', true, () => startControlPlane(ctx));
    await ctx.phase('resources', true, () => applyResources(ctx));
    await ctx.phase('zones', true, () => startZones(ctx));
    const full = await ctx.phase('register', true, () => registerInstances(ctx));
    if (full && ctx.results.register?.fullStateReached) {
      await ctx.phase('memory', false, () => measureMemory(ctx));
      if (opts.newZoneRuns) await ctx.phase('newZone', false, () => newZone(ctx));
      if (opts.flips) await ctx.phase('propagation', false, () => propagation(ctx));
      if (opts.churnRate && opts.churnSeconds) await ctx.phase('churn', false, () => churn(ctx));
    } else {
      await ctx.phase('memory', false, () => measureMemory(ctx));
      ctx.note('the full state was never reached: propagation and churn are not measured');
    }
    if (opts.hold && ctx.results.register?.fullStateReached) await holdForNewZones(ctx);
  } catch (err) {
    console.error(`bench failed: ${(err as Error).message}`);
    if (cleaned) return 1;
    await finish();
    return 1;
  }
  if (cleaned) return 1;
  clearTimeout(limit);
  await finish();
  return 0;
}

// --hold: time the new zone again on every SIGUSR1 until SIGINT (which ends the run).
async function holdForNewZones(ctx: BenchContext): Promise<void> {
  let wake: () => void = () => undefined;
  process.on('SIGUSR1', () => wake());
  for (;;) {
    console.log(`holding: kill -USR1 ${process.pid} times the new zone again; kill -INT ${process.pid} ends the run`);
    await new Promise<void>((resolve) => (wake = resolve));
    await ctx.phase('newZone', false, () => newZone(ctx));
  }
}

runBench(main);
