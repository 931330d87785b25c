// Phase 7: one instance's health changes in one zone; how long until every
// proxy in every zone has it. The change is made for real: the listener that
// the instance's TCP check connects to is closed (or reopened). The clock
// starts when the zone controller records the change (the instance's
// healthChangedAtMs, read back from its API) and stops when the last proxy
// has applied the view carrying it: local proxies see the instance's health,
// remote ones the region's healthy count for the service. Detection (listener
// flip -> zone records it) is reported apart: it is the check interval and
// thresholds, not propagation.
import { sleep, type BenchContext } from './bench-context';
import { instanceId, probeService, regionName, serviceName } from './fixtures';
import { summarize } from './stats';
import type { TargetsReply } from './health-targets-process';

interface Flip {
  region: string;
  up: boolean;
  detectionMs: number;
  allMs: number | null;
  localMs: number | null;
  remoteMs: number | null;
  edgeMs: number | null;
  missing: string[];
}

export async function propagation(ctx: BenchContext): Promise<Record<string, unknown>> {
  const { regions } = ctx.sizes;
  ctx.progress(`propagation: ${ctx.opts.flips} single health changes, each to ${ctx.proxyNames.length} proxies${ctx.edgeLog ? ' and the edge' : ''}...`);
  const up = Array.from({ length: regions }, () => true);
  const flips: Flip[] = [];
  const proxies = ctx.proxyNames;
  for (let i = 0; i < ctx.opts.flips; i++) {
    const r = i % regions;
    const region = regionName(r);
    const service = serviceName(probeService(r));
    const key = `${region}|${service}`;
    const want = !up[r];
    const flipped = (await ctx.targets.request({ type: 'probe', index: r, up: want }, (x) => x.type === 'probe' && x.index === r)) as Extract<TargetsReply, { type: 'probe' }>;
    up[r] = want;
    const seen = await ctx.fleet.waitAll(key, (v) => v === (want ? '1/1' : '0/1'), proxies, 15_000);
    const inst = await ctx.zoneApis.get(region)!.instance(instanceId(probeService(r), r));
    if (!inst || inst.healthy !== want) throw new Error(`${instanceId(probeService(r), r)} is not ${want ? 'healthy' : 'unhealthy'} at its zone`);
    const changedAt = inst.healthChangedAtMs;
    const missing = [...seen].filter(([, s]) => !s).map(([p]) => p);
    const local = [...seen].filter(([p]) => ctx.fleet.proxies.get(p)!.region === region).map(([, s]) => s?.at ?? Infinity);
    const remote = [...seen].filter(([p]) => ctx.fleet.proxies.get(p)!.region !== region).map(([, s]) => s?.at ?? Infinity);
    let edgeAt: number | undefined;
    if (ctx.edgeLog) {
      // The edge reads the same stream as the first region's proxies: it has
      // the change once it applied the version they got it in.
      const version = seen.get(`${ctx.regionNames[0]}-p0`)?.version;
      if (version !== undefined) for (let t = 0; t < 50 && (edgeAt = ctx.edgeLog.appliedAt(version)) === undefined; t++) await sleep(20);
      if (edgeAt === undefined) missing.push('edge');
    }
    const ms = (at: number) => (Number.isFinite(at) ? at - changedAt : null);
    const all = Math.max(...local, ...remote, edgeAt ?? (ctx.edgeLog ? Infinity : -Infinity));
    flips.push({
      region,
      up: want,
      detectionMs: changedAt - flipped.at,
      allMs: ms(all),
      localMs: ms(Math.max(...local)),
      remoteMs: ms(Math.max(...remote)),
      edgeMs: edgeAt === undefined ? null : edgeAt - changedAt,
      missing,
    });
    if (missing.length && flips.filter((f) => f.missing.length).length <= 3) ctx.note(`change ${i + 1} (${key} -> ${want ? 'healthy' : 'unhealthy'}) did not reach: ${missing.join(', ')}`);
    if ((i + 1) % 10 === 0) ctx.note(`${i + 1} changes: last reached every proxy ${flips[i]!.allMs ?? 'never'} ms after the zone recorded it`);
    await sleep(100);
  }
  const all = flips.map((f) => f.allMs ?? Infinity);
  return {
    changes: flips.length,
    method: 'listener of the probe instance closed/reopened (TCP check every 1 s, thresholds 1)',
    everyProxyMs: summarize(all),
    localProxiesMs: summarize(flips.map((f) => f.localMs ?? Infinity)),
    remoteProxiesMs: summarize(flips.map((f) => f.remoteMs ?? Infinity)),
    edgeMs: summarize(flips.map((f) => f.edgeMs ?? Infinity)),
    detectionMs: summarize(flips.map((f) => f.detectionMs)),
    neverReached: flips.filter((f) => f.allMs === null).length,
    flips,
  };
}
