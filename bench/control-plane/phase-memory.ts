// Phase 5: resident memory (VmRSS) and idle CPU of every process at full size,
// after the state has settled.
import { sleep, type BenchContext } from './bench-context';
import type { ProcSample } from './proc-sampler';

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
  const names = Object.keys(samples[0]!);
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const processes: Record<string, { rssMb: number; idleCpuPercent: number }> = {};
  for (const n of names) {
    processes[n] = { rssMb: median(samples.map((s) => s[n]?.rssMb ?? NaN)), idleCpuPercent: median(samples.map((s) => s[n]?.cpuPercent ?? NaN)) };
  }
  const zones = names.filter((n) => n.startsWith('zone-')).map((n) => processes[n]!.rssMb).sort((a, b) => a - b);
  for (const n of ['global-controller', 'zone-r00', 'edge']) if (processes[n]) ctx.note(`${n}: ${processes[n].rssMb} MB RSS, ${processes[n].idleCpuPercent}% CPU`);
  return {
    processes,
    globalControllerMb: processes['global-controller']?.rssMb,
    zoneControllerMb: { min: zones[0], median: zones[Math.floor(zones.length / 2)], max: zones[zones.length - 1] },
    edgeMb: processes.edge?.rssMb,
    etcdDbMb: await etcdDbMb(ctx),
  };
}
