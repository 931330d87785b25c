// Phases 3-4: the zone controllers (real processes), the edge and the
// simulated proxies; then every instance registered through the zones' HTTP
// API, and the wait until every proxy sees every instance healthy.
import * as path from 'node:path';
import { poll, secondsSince, type BenchContext } from './bench-context';
import { Fleet } from './fleet';
import { EdgeLog } from './edge-log';
import { ZoneApi, inParallel, type Registration } from './zone-api';
import { GRID_ADDRESSES, gridListenAddress, gridSlot, instanceId, probeService, serviceName, watchedKeys } from './fixtures';
import type { ProxyStats } from './proxy-state';
import * as fs from 'node:fs';

export async function startZones(ctx: BenchContext): Promise<Record<string, unknown>> {
  const { regions, services } = ctx.sizes;
  ctx.progress(`starting ${regions} zone controllers${ctx.opts.edge ? ', an edge' : ''} and ${regions * ctx.opts.proxiesPerZone} simulated proxies...`);
  const started = Date.now();
  const fleetLog = fs.openSync(path.join(ctx.runDir, 'logs', 'bench-proxies.log'), 'a');
  ctx.fleet = new Fleet(watchedKeys(ctx.sizes), fleetLog);
  for (const region of ctx.regionNames) {
    const zone = await ctx.stack.startZone(region, await ctx.stack.token(region));
    ctx.zoneApis.set(region, new ZoneApi(zone.url, await ctx.stack.instanceToken(region)));
  }
  const up = await poll(async () => {
    const h = await Promise.all([...ctx.stack.zones.values()].map((z) => z.healthz().catch(() => undefined)));
    if (!h.every((x) => x?.federated)) return undefined;
    const checking = await Promise.all([...ctx.zoneApis.values()].map((api) => api.acceptsToken().catch(() => false)));
    return checking.every(Boolean) ? true : undefined;
  }, 60_000, 200);
  if (!up) throw new Error(`zones not federated (with the instance token policy) within 60 s\n${ctx.logTail('zone-r00')}`);
  const federatedSeconds = secondsSince(started);
  for (const region of ctx.regionNames) {
    const zone = ctx.stack.zones.get(region)!;
    ctx.fleet.connect(Array.from({ length: ctx.opts.proxiesPerZone }, (_, i) => ({ name: `${region}-p${i}`, region, address: zone.discoveryAddress })));
  }
  if (ctx.opts.edge) {
    const edge = await ctx.stack.startEdge(ctx.regionNames[0]!);
    ctx.edgeLog = new EdgeLog(edge.logFile);
  }
  const synced = await poll(async () => {
    const stats = await ctx.fleet.stats();
    return stats.length && stats.every((p) => p.services === services) ? stats : undefined;
  }, 120_000, 250);
  const proxiesSeconds = secondsSince(started);
  if (!synced) {
    const stats = await ctx.fleet.stats();
    throw new Error(`proxies did not get ${services} services within 120 s: ${describe(stats)}\n${ctx.logTail('zone-r00')}`);
  }
  return { zonesFederatedSeconds: federatedSeconds, proxiesHaveServicesSeconds: proxiesSeconds, ...edgeState(ctx) };
}

function edgeState(ctx: BenchContext): Record<string, unknown> {
  if (!ctx.edgeLog) return {};
  return { edgeHighestVersion: ctx.edgeLog.highestVersion(), edgeBrokenStreams: ctx.edgeLog.brokenStreams, edgeLastBroken: ctx.edgeLog.lastBroken };
}

export function registration(ctx: BenchContext, s: number, r: number): Registration {
  if (s === probeService(r)) return { id: instanceId(s, r), service: serviceName(s), address: '127.0.0.1', port: ctx.probePorts[r]! };
  const slot = gridSlot(s);
  return { id: instanceId(s, r), service: serviceName(s), address: gridListenAddress(slot.addressIndex), port: ctx.gridPorts[slot.portIndex]! };
}

export async function registerInstances(ctx: BenchContext): Promise<Record<string, unknown>> {
  const { regions, services } = ctx.sizes;
  const total = regions * services;
  ctx.progress(`registering ${total} instances (${services} per zone, ${GRID_ADDRESSES * ctx.gridPorts.length} shared check listeners)...`);
  const started = Date.now();
  let done = 0;
  let failed = 0;
  let lastNote = Date.now();
  const perZone: Record<string, number> = {};
  await Promise.all(ctx.regionNames.map(async (region, r) => {
    const api = ctx.zoneApis.get(region)!;
    const t = Date.now();
    const items = Array.from({ length: services }, (_, s) => s);
    await inParallel(items, 16, async (s) => {
      const status = await api.register(registration(ctx, s, r)).catch(() => 0);
      if (status !== 201) failed++;
      done++;
      if (Date.now() - lastNote > 10_000) {
        lastNote = Date.now();
        ctx.note(`${done}/${total} registered (${Math.round(done / ((Date.now() - started) / 1000))}/s)`);
      }
    });
    perZone[region] = secondsSince(t);
  }));
  const registeredSeconds = secondsSince(started);
  ctx.note(`all registered in ${registeredSeconds} s (${failed} failed); waiting until every proxy sees every instance healthy...`);
  const full = await waitFullState(ctx, 300_000);
  return {
    instances: total,
    failed,
    registeredSeconds,
    registrationsPerSecond: Math.round(total / registeredSeconds),
    perZoneSeconds: perZone,
    fullStateSeconds: full ? secondsSince(started) : null,
    fullStateReached: !!full,
    ...edgeState(ctx),
  };
}

// Every simulated proxy holds every service, every local instance healthy
// and every service healthy in every other region.
export function isFull(ctx: BenchContext, stats: ProxyStats[]): boolean {
  const { services } = ctx.sizes;
  const names = new Set(ctx.proxyNames);
  const main = stats.filter((p) => names.has(p.name));
  return main.length === names.size && main.every((p) =>
    p.services === services && p.localHealthy === services &&
    ctx.regionNames.every((r) => r === p.region || p.remoteHealthy[r] === services));
}

export function describe(stats: ProxyStats[]): string {
  const min = (f: (p: ProxyStats) => number) => Math.min(...stats.map(f));
  const remoteMin = Math.min(...stats.map((p) => Math.min(...Object.entries(p.remoteHealthy).filter(([r]) => r !== p.region && /^r\d+$/.test(r)).map(([, n]) => n), Infinity)));
  const errors = [...new Set(stats.map((p) => p.error).filter(Boolean))];
  return `proxies ${stats.length}, connected ${stats.filter((p) => p.connected).length}, min services ${min((p) => p.services)}, min local healthy ${min((p) => p.localHealthy)}, min remote healthy ${remoteMin}${errors.length ? `, errors: ${errors.join('; ')}` : ''}`;
}

export async function waitFullState(ctx: BenchContext, timeoutMs: number): Promise<ProxyStats[] | undefined> {
  let lastNote = Date.now();
  const full = await poll(async () => {
    const stats = await ctx.fleet.stats();
    if (isFull(ctx, stats)) return stats;
    if (Date.now() - lastNote > 15_000) {
      lastNote = Date.now();
      ctx.note(describe(stats));
    }
    return undefined;
  }, timeoutMs, 500);
  if (!full) ctx.note(`no full state within ${timeoutMs / 1000} s: ${describe(await ctx.fleet.stats())}`);
  return full;
}
