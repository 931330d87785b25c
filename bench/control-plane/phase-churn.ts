// Phase 8: churn. For churnSeconds, every zone deregisters instances through
// its API and registers them again half a second later (a registered
// instance starts unhealthy and turns healthy at its first check, within a
// second): churnRate API changes a second across the mesh. Once a second per
// zone the change is a marker, on a service every proxy watches: its lag is
// from the API request to the last proxy (and the edge) having it. Memory and
// CPU of every process are sampled every second; afterwards, how long until
// every proxy holds the full healthy state again.
import { poll, secondsSince, sleep, type BenchContext } from './bench-context';
import { churnServices, markerServices, serviceName } from './fixtures';
import { registration, waitFullState } from './phase-zones';
import { summarize } from './stats';
import { etcdDbMb } from './phase-memory';
import { MACHINE } from './proc-sampler';

const MAX_IN_FLIGHT_PER_ZONE = 64;
const REREGISTER_AFTER_MS = 500;

interface Marker {
  region: string;
  service: string;
  kind: 'deregister' | 'register';
  atSecond: number;
  // To the last simulated proxy; to the edge (the edge reads every version of the first zone's stream).
  lagMs: number | null;
  edgeLagMs: number | null;
}

export async function churn(ctx: BenchContext): Promise<Record<string, unknown>> {
  const { regions } = ctx.sizes;
  const { churnRate, churnSeconds } = ctx.opts;
  ctx.progress(`churn: ${churnRate} instance changes a second for ${churnSeconds} s across ${regions} zones, sampling lag and memory every second...`);
  const perZone = churnRate / regions;
  const pool = churnServices(ctx.sizes);
  const proxies = ctx.proxyNames;
  const markers: Marker[] = [];
  const markerWaits: Promise<void>[] = [];
  const latencies: number[] = [];
  let sent = 0;
  let failed = 0;
  let skipped = 0;
  const etcdBefore = await etcdDbMb(ctx);
  ctx.sampler.series.length = 0;
  ctx.sampler.start(1000);
  const started = Date.now();

  const measure = (region: string, s: number, kind: Marker['kind'], t0: number): void => {
    const key = `${region}|${serviceName(s)}`;
    const ok = kind === 'deregister' ? (v: string) => v.endsWith('/0') : (v: string) => !v.endsWith('/0');
    const m: Marker = { region, service: serviceName(s), kind, atSecond: Math.round((t0 - started) / 100) / 10, lagMs: null, edgeLagMs: null };
    markers.push(m);
    markerWaits.push((async () => {
      const seen = await ctx.fleet.waitAll(key, ok, proxies, 30_000, t0);
      if ([...seen.values()].some((x) => !x)) return;
      m.lagMs = Math.max(...[...seen.values()].map((x) => x!.at)) - t0;
      if (ctx.edgeLog) {
        const version = seen.get(`${ctx.regionNames[0]}-p0`)?.version;
        const edgeAt = version === undefined ? undefined : await poll(() => ctx.edgeLog!.appliedAt(version), 30_000, 100);
        if (edgeAt !== undefined) m.edgeLagMs = edgeAt - t0;
      }
    })());
  };

  const zones = ctx.regionNames.map((region, r) => ({
    region,
    r,
    api: ctx.zoneApis.get(region)!,
    next: Math.floor((pool.length / regions) * r),
    issued: 0,
    due: [] as { s: number; at: number }[],
    markers: markerServices(r, ctx.sizes),
    markerSecond: -1,
  }));
  const op = (z: (typeof zones)[number], kind: 'register' | 'deregister', s: number, marker: boolean): void => {
    const t0 = Date.now();
    sent++;
    const req = kind === 'register' ? z.api.register(registration(ctx, s, z.r)) : z.api.deregister(registration(ctx, s, z.r).id);
    if (marker) measure(z.region, s, kind, t0);
    void req.then(
      (status) => {
        latencies.push(Date.now() - t0);
        if (status >= 300) failed++;
      },
      () => failed++,
    );
  };

  // Marker re-registration waits for the deregistration to be seen (so no
  // proxy can miss the state in between), then is a marker itself.
  const reregisterMarker = (z: (typeof zones)[number], s: number, waitFor: Promise<void>) => {
    markerWaits.push(waitFor.then(async () => {
      while (z.api.inFlight >= MAX_IN_FLIGHT_PER_ZONE) await sleep(10);
      op(z, 'register', s, true);
    }));
  };

  let lastNote = Date.now();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = Date.now() - started;
      if (elapsed >= churnSeconds * 1000) {
        clearInterval(tick);
        return resolve();
      }
      for (const z of zones) {
        const target = Math.floor((perZone * elapsed) / 1000);
        while (z.issued < target) {
          z.issued++;
          if (z.api.inFlight >= MAX_IN_FLIGHT_PER_ZONE) {
            skipped++;
            continue;
          }
          const now = Date.now();
          if (z.due.length && z.due[0]!.at <= now) {
            op(z, 'register', z.due.shift()!.s, false);
            continue;
          }
          const second = Math.floor(elapsed / 1000);
          if (second > z.markerSecond && z.markers.length) {
            z.markerSecond = second;
            const s = z.markers.shift()!;
            op(z, 'deregister', s, true);
            reregisterMarker(z, s, markerWaits[markerWaits.length - 1]!);
            continue;
          }
          const s = pool[z.next++ % pool.length]!;
          op(z, 'deregister', s, false);
          z.due.push({ s, at: now + REREGISTER_AFTER_MS });
        }
      }
      if (Date.now() - lastNote > 10_000) {
        lastNote = Date.now();
        const lags = markers.filter((m) => m.lagMs !== null).map((m) => m.lagMs!);
        const rss = ctx.sampler.series.at(-1)?.samples;
        ctx.note(`${secondsSince(started)} s: ${sent} sent, ${skipped} skipped, marker lag max ${Math.max(0, ...lags)} ms; RSS gc ${rss?.['global-controller']?.rssMb} MB, zone-r00 ${rss?.['zone-r00']?.rssMb} MB${rss?.edge ? `, edge ${rss.edge.rssMb} MB` : ''}`);
      }
    }, 10);
  });
  const churnEnded = Date.now();
  ctx.note(`churn over (${sent} sent, ${skipped} skipped); putting every instance back and waiting for the full state...`);
  await poll(() => (zones.every((z) => z.api.inFlight === 0) ? true : undefined), 60_000, 50);
  for (const z of zones) for (const d of z.due.splice(0)) op(z, 'register', d.s, false);
  await Promise.all(markerWaits);
  await poll(() => (zones.every((z) => z.api.inFlight === 0) ? true : undefined), 60_000, 50);
  const full = await waitFullState(ctx, 180_000);
  const recoverySeconds = full ? secondsSince(churnEnded) : null;
  ctx.sampler.stop();
  const churnMs = churnEnded - started;
  return {
    method: 'deregister through the zone API, register again 500 ms later (the instance comes back unhealthy, then healthy at its first check)',
    offeredPerSecond: churnRate,
    sent,
    skippedZoneApiSaturated: skipped,
    failed,
    achievedPerSecond: Math.round((sent / churnMs) * 1000),
    apiLatencyMs: summarize(latencies),
    markerLagMs: summarize(markers.map((m) => m.lagMs ?? Infinity)),
    markerDeregisterLagMs: summarize(markers.filter((m) => m.kind === 'deregister').map((m) => m.lagMs ?? Infinity)),
    markerRegisterLagMs: summarize(markers.filter((m) => m.kind === 'register').map((m) => m.lagMs ?? Infinity)),
    markersMissed: markers.filter((m) => m.lagMs === null).length,
    edgeLagMs: ctx.edgeLog ? summarize(markers.map((m) => m.edgeLagMs ?? Infinity)) : undefined,
    edgeMarkersMissed: ctx.edgeLog ? markers.filter((m) => m.edgeLagMs === null).length : undefined,
    lagByWindow: lagWindows(markers, churnSeconds),
    memory: memorySeries(ctx, churnEnded),
    cpu: cpuShares(ctx, churnEnded),
    series: ctx.sampler.series.map((s) => ({ t: Math.round((s.at - started) / 1000), ...Object.fromEntries(Object.entries(s.samples).map(([n, x]) => [n, [x.rssMb, x.cpuPercent]])) })),
    recoveredToFullState: !!full,
    recoverySeconds,
    etcdDbMb: { before: etcdBefore, after: await etcdDbMb(ctx) },
    markers,
  };
}

// Mean CPU during the churn, in % of one core: the whole machine, the bench's
// processes, and what other work on the machine took.
function cpuShares(ctx: BenchContext, ended: number): { machine: number; bench: number; others: number } {
  const during = ctx.sampler.series.filter((s) => s.at <= ended);
  const mean = (f: (s: Record<string, { cpuPercent: number }>) => number) => {
    const xs = during.map((s) => f(s.samples)).filter(Number.isFinite);
    return Math.round(xs.reduce((a, b) => a + b, 0) / (xs.length || 1));
  };
  const machine = mean((s) => s[MACHINE]?.cpuPercent ?? NaN);
  const bench = mean((s) => Object.entries(s).filter(([n]) => n !== MACHINE).reduce((a, [, x]) => a + (Number.isFinite(x.cpuPercent) ? x.cpuPercent : 0), 0));
  return { machine, bench, others: Math.max(0, machine - bench) };
}

// Per 10 s of churn: the worst lag at the simulated proxies and at the edge
// (null: a marker that never arrived within 30 s).
function lagWindows(markers: Marker[], seconds: number): { from: number; maxLagMs: number | null; maxEdgeLagMs: number | null; markers: number }[] {
  const worst = (xs: (number | null)[]) => (xs.length && xs.every((x) => x !== null) ? Math.max(...(xs as number[])) : null);
  const out = [];
  for (let from = 0; from < seconds; from += 10) {
    const ms = markers.filter((m) => m.atSecond >= from && m.atSecond < from + 10);
    out.push({ from, maxLagMs: worst(ms.map((m) => m.lagMs)), maxEdgeLagMs: worst(ms.map((m) => m.edgeLagMs)), markers: ms.length });
  }
  return out;
}

// Per process: RSS at the start and end of the churn and its maximum
// (during churn and recovery), and mean CPU during the churn.
function memorySeries(ctx: BenchContext, ended: number): Record<string, { startMb: number; endMb: number; maxMb: number; afterMb: number; meanCpuPercent: number }> {
  const series = ctx.sampler.series;
  const names = new Set(series.flatMap((s) => Object.keys(s.samples)).filter((n) => n !== MACHINE));
  const out: Record<string, { startMb: number; endMb: number; maxMb: number; afterMb: number; meanCpuPercent: number }> = {};
  for (const n of names) {
    const during = series.filter((s) => s.at <= ended && s.samples[n]);
    const pts = series.filter((s) => s.samples[n]);
    if (!pts.length) continue;
    const cpu = during.map((s) => s.samples[n]!.cpuPercent).filter(Number.isFinite);
    out[n] = {
      startMb: pts[0]!.samples[n]!.rssMb,
      endMb: (during.at(-1) ?? pts.at(-1)!).samples[n]!.rssMb,
      maxMb: Math.max(...pts.map((s) => s.samples[n]!.rssMb)),
      afterMb: pts.at(-1)!.samples[n]!.rssMb,
      meanCpuPercent: Math.round(cpu.reduce((a, b) => a + b, 0) / (cpu.length || 1)),
    };
  }
  return out;
}
