// Phase 5: resident memory (VmRSS) and idle CPU of every process at full size,
// after the state has settled.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { poll, sleep, type BenchContext } from './bench-context';
import { MACHINE, type ProcSample } from './proc-sampler';

export async function etcdDbMb(ctx: BenchContext): Promise<number | undefined> {
  try {
    const text = await (await fetch(`${ctx.stack.etcd.endpoint}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const m = /^etcd_mvcc_db_total_size_in_bytes (\S+)$/m.exec(text);
    return m ? Math.round(Number(m[1]) / 1024 / 102.4) / 10 : undefined;
  } catch {
    return undefined;
  }
}

export async function measureMemory(ctx: BenchContext): Promise<Record<string, unknown>> {
  ctx.progress('memory at full size (10 s to settle, then 5 samples a second apart)...');
  await sleep(10_000);
  ctx.sampler.sample();
  const samples: Record<string, ProcSample>[] = [];
  for (let i = 0; i < 5; i++) {
    await sleep(1000);
    samples.push(ctx.sampler.sample());
  }
  const names = Object.keys(samples[0]!).filter((n) => n !== MACHINE);
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const processes: Record<string, { rssMb: number; idleCpuPercent: number; heapUsedMb?: number; heapTotalMb?: number; externalMb?: number }> = {};
  for (const n of names) {
    processes[n] = { rssMb: median(samples.map((s) => s[n]?.rssMb ?? NaN)), idleCpuPercent: median(samples.map((s) => s[n]?.cpuPercent ?? NaN)) };
  }
  const zones = names.filter((n) => n.startsWith('zone-')).map((n) => processes[n]!.rssMb).sort((a, b) => a - b);
  for (const n of ['global-controller', 'zone-r00', 'edge']) if (processes[n]) ctx.note(`${n}: ${processes[n].rssMb} MB RSS, ${processes[n].idleCpuPercent}% CPU`);
  const heap = await heapFigures(ctx);
  for (const [n, h] of Object.entries(heap)) if (processes[n]) Object.assign(processes[n], h);
  if (ctx.opts.heapSnapshot) await heapSnapshots(ctx);
  return {
    processes,
    globalControllerMb: processes['global-controller']?.rssMb,
    zoneControllerMb: { min: zones[0], median: zones[Math.floor(zones.length / 2)], max: zones[zones.length - 1] },
    edgeMb: processes.edge?.rssMb,
    // CPU of the whole machine meanwhile, in % of one core (others' work included).
    machineCpuPercent: median(samples.map((s) => s[MACHINE]?.cpuPercent ?? NaN)),
    etcdDbMb: await etcdDbMb(ctx),
  };
}

// Profiled processes run with --heapsnapshot-signal=SIGUSR2: one snapshot
// each, one at a time (a snapshot doubles a process's memory for a while).
async function heapSnapshots(ctx: BenchContext): Promise<void> {
  const dir = path.join(ctx.runDir, 'profiles');
  const procs = [ctx.stack.gc, ...ctx.stack.zones.values(), ctx.stack.edge].filter((p) => p && ctx.opts.cpuProf.includes(p.name));
  for (const p of procs) {
    const before = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')).length : 0;
    process.kill(p!.pid!, 'SIGUSR2');
    ctx.note(`heap snapshot of ${p!.name}...`);
    await poll(() => (fs.readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')).length > before ? true : undefined), 120_000, 500);
    // Written when its size stops changing.
    let size = -1;
    await poll(() => {
      const files = fs.readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')).map((f) => fs.statSync(path.join(dir, f)).size);
      const total = files.reduce((a, b) => a + b, 0);
      const done = total === size;
      size = total;
      return done ? true : undefined;
    }, 120_000, 2000);
  }
}

// What RSS is made of, from each process's own /metrics (prom-client's
// default metrics): JS heap in use and reserved, and memory outside the heap.
async function heapFigures(ctx: BenchContext): Promise<Record<string, { heapUsedMb: number; heapTotalMb: number; externalMb: number }>> {
  const urls: Record<string, string> = { 'global-controller': `${ctx.stack.adminUrl}/metrics` };
  const r00 = ctx.stack.zones.get(ctx.regionNames[0]!);
  if (r00) urls[`zone-${r00.region}`] = `${r00.url}/metrics`;
  if (ctx.stack.edge) urls.edge = `http://127.0.0.1:${ctx.stack.edgeAdmin}/metrics`;
  const out: Record<string, { heapUsedMb: number; heapTotalMb: number; externalMb: number }> = {};
  for (const [name, url] of Object.entries(urls)) {
    try {
      const text = await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).text();
      const metric = (m: string) => {
        const found = new RegExp(`^\\w*${m}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
        return found ? Math.round(Number(found[1]) / 104857.6) / 10 : NaN;
      };
      out[name] = { heapUsedMb: metric('nodejs_heap_size_used_bytes'), heapTotalMb: metric('nodejs_heap_size_total_bytes'), externalMb: metric('nodejs_external_memory_bytes') };
    } catch {
      // not available
    }
  }
  return out;
}
