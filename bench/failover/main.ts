// `npm run bench:failover`: failures under a steady request stream, in the
// netns lab (real BGP anycast, WireGuard tunnels, the real Meridian
// processes): fra's instances die, edge-fra drains, the fra—iad tunnel
// breaks, the global controller dies, etcd restarts; each healed before the
// next. Needs root. Writes bench/results/failover.{json,md}.
import { Lab } from '../../netns-tests/lab';
import { requireLabHost } from '../../netns-tests/lab/require-root';
import { MeridianStack } from '../../netns-tests/lab/meridian-stack';
import { machine } from '../control-plane/report';
import { commandLine, loadAverage, parseOrUsage, runBench } from '../bench-cli';
import { parseFailoverOptions, USAGE } from './options';
import { runFailure, type FailureResult } from './failure-run';
import { failureSpec } from './failures';
import { writeFailoverResults } from './report';

async function main(): Promise<number> {
  const opts = parseOrUsage(parseFailoverOptions, USAGE);
  if (typeof opts === 'number') return opts;
  try {
    requireLabHost();
  } catch (err) {
    console.error(`npm run bench:failover runs in the netns lab: ${(err as Error).message.replace('run netns-tests/run.sh as root', 'run it as root')}`);
    return 2;
  }
  const command = commandLine('bench:failover');
  const startedAt = new Date();
  const loadStart = loadAverage();
  const t0 = Date.now();
  const elapsed = () => `${Math.round((Date.now() - t0) / 1000)} s`;
  const total = opts.only.length + 1;

  console.log(`[1/${total}] building the lab and starting Meridian in it (${elapsed()})`);
  const lab = await Lab.create({ wireguard: false, announceAnycast: false });
  let stack: MeridianStack | undefined;
  const results: FailureResult[] = [];
  let code = 0;
  try {
    stack = await MeridianStack.start(lab, { regions: ['fra', 'iad', 'sin'], only: ['iad'] });
    console.log(`      lab ${lab.prefix} in ${lab.timings.setupMs + lab.timings.bgpConvergeMs} ms, Meridian steady after ${stack.timings.totalMs} ms`);
    for (const [i, name] of opts.only.entries()) {
      const spec = failureSpec(name, stack);
      console.log(`[${i + 2}/${total}] ${name}: ${spec.what} (${elapsed()})`);
      const r = await runFailure(
        { lab, url: `http://${lab.addresses.anycast}/`, intervalMs: opts.intervalMs, holdMs: opts.holdS * 1000, outageMs: opts.outageS * 1000, progress: (l) => console.log(`      ${l} (${elapsed()})`) },
        spec,
      );
      results.push(r);
      console.log(`      ${r.requests} requests, ${r.failed} failed${r.error ? `; ERROR ${r.error.split('\n')[0]}` : ''}`);
      if (r.error) code = 1;
      // Every region steady again before the next failure.
      await stack.waitSteady(['fra', 'iad', 'sin']);
    }
  } catch (err) {
    console.error(`bench failed: ${(err as Error).message}`);
    code = 1;
  } finally {
    await stack?.stop().catch(() => undefined);
    await lab.teardown();
  }
  const files = writeFailoverResults({
    startedAt: startedAt.toISOString(),
    command,
    machine: machine(),
    loadAverage: { start: loadStart, end: loadAverage() },
    options: opts,
    lab: { prefix: lab.prefix, setupMs: lab.timings.setupMs + lab.timings.bgpConvergeMs, stackMs: stack?.timings.totalMs ?? 0 },
    failures: results,
  });
  console.log('');
  for (const r of results) console.log(`${r.failed === 0 && !r.error ? 'ok' : '!!'} ${r.name}: ${r.failed} failed of ${r.requests}; reroute ${r.rerouteMs ?? '-'} ms; return ${r.returnMs ?? '-'} ms`);
  console.log(`\nresults: ${files.md}\n         ${files.json}`);
  return code;
}

runBench(main);
