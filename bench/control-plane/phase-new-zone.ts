// Phase 6: a new zone joins a mesh at full size. Timed two ways, each run on
// an empty state directory:
//   raw:  a bare federation client's Hello -> Snapshot decoded -> full
//         RegionsView decoded (what the wire and the global controller cost);
//   real: `meridian zone-controller` spawned -> a proxy on its discovery
//         stream holds every service and every region's health (what an
//         operator sees: process start, join, validation, view, discovery).
import * as grpc from '@grpc/grpc-js';
import { federationProto } from '../../lib/grpc/protos';
import { joinCredentials } from '../../lib/grpc/join-credentials';
import { createCsr, formatIdentity, generateKeyPairAsync } from '../../lib/pki';
import { meshChannelOptions } from '../../lib/grpc/mesh-credentials';
import { FEDERATION_MAX_MESSAGE_BYTES } from '../../lib/grpc/federation-limits';
import type { GlobalMessage__Output } from '../../proto/generated/meridian/federation/v1/GlobalMessage';
import { poll, secondsSince, type BenchContext } from './bench-context';
import { regionName } from './fixtures';
import { summarize } from './stats';

// The same receive limit as the zone controller's federation client.
const CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.max_receive_message_length': FEDERATION_MAX_MESSAGE_BYTES, ...meshChannelOptions('127.0.0.1') };

async function rawJoin(ctx: BenchContext, region: string, token: string): Promise<{ snapshotMs: number; regionsMs: number; resources: number; regions: number }> {
  const Federation = federationProto().meridian.federation.v1.Federation;
  // As a joining zone: TLS with the root pinned by the token (pinned before the clock starts).
  const client = new Federation(`127.0.0.1:${ctx.stack.gcGrpc}`, await joinCredentials(`127.0.0.1:${ctx.stack.gcGrpc}`, token), CHANNEL_OPTIONS);
  // A join on a token carries the CSR of the zone's CA key (made before the clock starts too).
  const { privateKeyPem } = await generateKeyPairAsync();
  const zoneCaCsr = createCsr({ keyPem: privateKeyPem, identity: formatIdentity({ trustDomain: 'meridian.local', region, role: 'zone', name: region }) });
  try {
    return await new Promise((resolve, reject) => {
      const t0 = Date.now();
      let snapshotMs = -1;
      let resources = 0;
      const call = client.Sync();
      const timer = setTimeout(() => reject(new Error('raw join: no snapshot and regions view within 30 s')), 30_000);
      call.on('data', (m: GlobalMessage__Output) => {
        if (m.message === 'snapshot') {
          snapshotMs = Date.now() - t0;
          resources = m.snapshot!.resources.length;
          call.write({ ack: { version: m.snapshot!.version } });
        }
        if (m.message === 'regions' && m.regions!.full && snapshotMs >= 0) {
          clearTimeout(timer);
          resolve({ snapshotMs, regionsMs: Date.now() - t0, resources, regions: m.regions!.regions.length });
          call.cancel();
        }
      });
      call.on('error', (err: grpc.ServiceError) => {
        if (err.code === grpc.status.CANCELLED) return;
        clearTimeout(timer);
        reject(new Error(`raw join: ${grpc.status[err.code]} ${err.details}`));
      });
      call.write({ hello: { region, joinToken: token, lastAppliedVersion: 0, zoneId: `${region}-raw`, zoneCaCsr, partialRegions: true } });
    });
  } finally {
    client.close();
  }
}

// Each region's healthy instances as the global controller holds them now:
// what the new zone's proxy must end up with. Not simply one per service:
// the health flips and the churn before a --hold re-timing leave some
// instances unhealthy or gone.
async function expectedHealthy(ctx: BenchContext): Promise<Map<string, number>> {
  const res = await ctx.stack.api('GET', '/v1/regions');
  if (res.status !== 200) throw new Error(`GET /v1/regions: ${res.status}`);
  const out = new Map<string, number>();
  for (const r of res.body.regions as { region: string; services?: { healthy: number }[] }[]) {
    out.set(r.region, (r.services ?? []).reduce((n, s) => n + s.healthy, 0));
  }
  return out;
}

async function realJoin(ctx: BenchContext, region: string, token: string, run: number): Promise<{ answeringMs: number; federatedMs: number; fullViewMs: number | null }> {
  const { services } = ctx.sizes;
  const expected = await expectedHealthy(ctx);
  const t0 = Date.now();
  const zone = await ctx.stack.startZone(region, token);
  const proxy = `${region}-new${run}`;
  try {
    const answering = await poll(() => zone.healthz(), 30_000, 25);
    if (!answering) throw new Error(`the new zone did not answer within 30 s\n${zone.tail()}`);
    const answeringMs = Date.now() - t0;
    ctx.fleet.connect([{ name: proxy, region, address: zone.discoveryAddress }]);
    let federatedMs = -1;
    const full = await poll(async () => {
      if (federatedMs < 0 && (await zone.healthz()).federated) federatedMs = Date.now() - t0;
      const p = (await ctx.fleet.stats()).find((x) => x.name === proxy);
      return p && p.services === services && ctx.regionNames.every((r) => p.remoteHealthy[r] === expected.get(r)) ? Date.now() - t0 : undefined;
    }, 60_000, 50);
    return { answeringMs, federatedMs, fullViewMs: full ?? null };
  } finally {
    ctx.fleet.close([proxy]);
    await ctx.stack.removeZone(region);
  }
}

export async function newZone(ctx: BenchContext): Promise<Record<string, unknown>> {
  const region = regionName(ctx.sizes.regions);
  ctx.progress(`a new zone (${region}) joining with ${ctx.sizes.services} services present (${ctx.opts.newZoneRuns} runs each: raw client, real zone)...`);
  const raw = [];
  const real = [];
  for (let run = 0; run < ctx.opts.newZoneRuns; run++) {
    const t = Date.now();
    // A join token is good for one join: one per join.
    raw.push(await rawJoin(ctx, region, await ctx.stack.token(region)));
    real.push(await realJoin(ctx, region, await ctx.stack.token(region), run));
    ctx.note(`run ${run + 1}: raw snapshot ${raw[run]!.snapshotMs} ms, regions ${raw[run]!.regionsMs} ms; real zone full view at its proxy ${real[run]!.fullViewMs ?? 'never'} ms (${secondsSince(t)} s)`);
  }
  const fullView = real.map((r) => r.fullViewMs ?? Infinity);
  return {
    region,
    raw,
    real,
    rawSnapshotMs: summarize(raw.map((r) => r.snapshotMs)),
    rawRegionsViewMs: summarize(raw.map((r) => r.regionsMs)),
    realFullViewMs: summarize(fullView),
    allReachedFullView: fullView.every(Number.isFinite),
  };
}
