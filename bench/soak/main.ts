// `npm run bench:soak`: the demo under moderate load for a long time with
// instances restarting at random; memory and open file descriptors of every
// process sampled throughout and judged flat or not at the end. Prints
// progress, writes bench/results/soak.{json,md}, and stops everything it
// started, also on failure or Ctrl-C.
import * as path from 'node:path';
import { request } from 'undici';
import { DemoProcess } from '../../integration/harness/demo-process';
import { machine } from '../control-plane/report';
import { summarize } from '../control-plane/stats';
import { waitFor } from '../../lib/process/part-process';
import { commandLine, loadAverage, parseOrUsage, runBench } from '../bench-cli';
import { parseSoakOptions, USAGE } from './options';
import { namedDescendants } from './process-tree';
import { ResourceSampler } from './resource-sampler';
import { SteadyLoad } from './steady-load';
import { InstanceChurn } from './instance-churn';
import { judge, longLived } from './verdict';
import { RULE, writeSoakResults } from './report';

const STEPS = 5;
// Load runs this long before the first sample: pools, JIT and caches warm.
const WARMUP_MS = 30_000;

async function main(): Promise<number> {
  const opts = parseOrUsage(parseSoakOptions, USAGE);
  if (typeof opts === 'number') return opts;
  const command = commandLine('bench:soak');
  const startedAt = new Date();
  const loadStart = loadAverage();
  const t0 = Date.now();
  const elapsed = () => `${Math.round((Date.now() - t0) / 1000)} s`;
  const step = (n: number, what: string) => console.log(`[${n}/${STEPS}] ${what} (${elapsed()})`);
  const soakMs = opts.minutes * 60_000;

  const demo = new DemoProcess(opts.portOffset);
  let load: SteadyLoad | undefined;
  let churn: InstanceChurn | undefined;
  const sampler = new ResourceSampler(() => namedDescendants(process.pid));
  let interrupted = false;
  const interrupt = (signal: string) => {
    if (interrupted) return;
    interrupted = true;
    console.log(`${signal}: ending the soak early; results cover what ran`);
    load?.stop();
  };
  process.on('SIGINT', () => interrupt('SIGINT'));
  process.on('SIGTERM', () => interrupt('SIGTERM'));

  try {
    step(1, `starting the demo (port offset ${opts.portOffset}, data ${demo.dataDir})`);
    const endpoints = await demo.start();
    const targets = Object.entries(endpoints.regions).map(([name, r]) => ({ name: `edge-${name}`, origin: `http://${r.edge!.http}`, host: 'echo.mesh' }));
    // The demo says ready when the edges' admin ports answer; their public
    // listeners may come a moment later.
    for (const t of targets) {
      await waitFor(`${t.name} answering ${t.host}`, async () => {
        // undici's request, not fetch: fetch does not send a Host header of ours.
        const res = await request(t.origin, { headers: { host: t.host }, headersTimeout: 2000, bodyTimeout: 2000 });
        await res.body.dump();
        return res.statusCode === 200;
      }, 60_000, 200);
    }
    const totalMs = WARMUP_MS + soakMs;
    load = new SteadyLoad(targets, opts.rate, Math.ceil((opts.rate * totalMs) / 1000), totalMs);
    step(2, `load: ${opts.rate} GET/s over ${targets.map((t) => t.name).join(', ')}; warming up ${WARMUP_MS / 1000} s`);
    const loadDone = load.start();
    await Promise.race([new Promise((r) => setTimeout(r, WARMUP_MS)), loadDone]);
    load.mark();
    const warmup = load.resetTotals();
    console.log(`      warm-up: ${warmup.sent} sent, ${warmup.failed} failed`);

    step(3, `soak: ${opts.minutes} min, an instance killed every ~${opts.restartEverySec} s, samples every ${opts.sampleEverySec} s`);
    churn = new InstanceChurn(endpoints, opts.restartEverySec * 1000, path.join(demo.dataDir, 'logs'));
    const soakStart = Date.now();
    sampler.start(opts.sampleEverySec * 1000);
    churn.start();
    const tick = setInterval(() => {
      const i = load!.mark();
      const minute = Math.floor((Date.now() - soakStart) / 60_000);
      // Of the processes alive at the last sample (killed instances' series end earlier).
      const lasts = [...sampler.series.values()].map((s) => s.points[s.points.length - 1]!);
      const latest = Math.max(...lasts.map((p) => p.s));
      const rss = lasts.filter((p) => p.s === latest).reduce((a, p) => a + p.rssMb, 0);
      if (i.s && Math.round((Date.now() - soakStart) / 1000) % 60 < opts.sampleEverySec) {
        console.log(`      minute ${minute}/${opts.minutes}: ${load!.totals.sent} sent, ${load!.totals.failed} failed, ${churn!.events.length} restarts, RSS of the processes ${Math.round(rss)} MB (${elapsed()})`);
      }
    }, opts.sampleEverySec * 1000);
    await loadDone;
    clearInterval(tick);
    sampler.sample();
    sampler.stop();
    load.mark();
    const soakSeconds = (Date.now() - soakStart) / 1000;

    step(4, 'stopping the instance churn and the demo');
    await churn.stop();
    await load.close();
    const loadEnd = loadAverage();
    await demo.stop();

    step(5, 'judging and writing results');
    const all = [...sampler.series.values()];
    const firstS = Math.min(...all.map((s) => s.points[0]!.s));
    const lastS = Math.max(...all.map((s) => s.points[s.points.length - 1]!.s));
    const verdicts = longLived(all, firstS, lastS, opts.sampleEverySec).map((s) => judge(s, soakSeconds));
    const flat = verdicts.length > 0 && verdicts.every((v) => v.flat);
    const { latencyMs, ...totals } = load.totals;
    const events = churn.events;
    const files = writeSoakResults({
      startedAt: startedAt.toISOString(),
      command,
      machine: machine(),
      loadAverage: { start: loadStart, end: loadEnd },
      options: opts,
      soakSeconds: Math.round(soakSeconds),
      warmup: { seconds: WARMUP_MS / 1000, sent: warmup.sent, failed: warmup.failed },
      requests: { ...totals, latencyMs: summarize(latencyMs) },
      restarts: { count: events.length, failed: events.filter((e) => e.error).length, downMs: summarize(events.map((e) => e.downMs ?? NaN)), events },
      verdicts,
      flat,
      intervals: load.intervals,
      series: all,
    });
    console.log('');
    for (const v of verdicts) console.log(`${v.flat ? 'ok' : '!!'} ${v.name}: RSS ${v.rssMb.start} -> ${v.rssMb.end} MB (max ${v.rssMb.max}, slope ${v.rssSlopeMbPer10Min} MB/10 min), fds ${v.fds.baseline} -> ${v.fds.end}${v.flat ? '' : ` (${v.why.join('; ')})`}`);
    console.log(`requests: ${totals.sent} sent, ${totals.failed} failed; ${events.length} instance restarts`);
    console.log(`verdict: ${flat ? 'flat' : 'NOT flat'} (${RULE})`);
    console.log(`\nresults: ${files.md}\n         ${files.json}`);
    return interrupted ? 1 : 0;
  } catch (err) {
    console.error(`soak failed: ${(err as Error).message}`);
    load?.stop();
    await churn?.stop().catch(() => undefined);
    await load?.close().catch(() => undefined);
    const code = await demo.stop().catch(() => null);
    if (code !== 0) console.error(`the demo stopped with ${code}; its data directory: ${demo.dataDir}`);
    return 1;
  }
}

runBench(main);
