// Phases 1-2: etcd, the global controller and the health-check targets; then
// every Region and Service through the admin API, in batches (one apply is one
// etcd transaction, at most 128 documents with etcd's default --max-txn-ops).
import { BenchChild } from './child';
import type { BenchContext } from './bench-context';
import type { TargetsCommand, TargetsReply } from './health-targets-process';
import { regionDocument, serviceDocument } from './fixtures';
import { summarize } from './stats';

const APPLY_BATCH = 100;

export async function startControlPlane(ctx: BenchContext): Promise<Record<string, unknown>> {
  ctx.progress('starting etcd, the global controller and the health-check listeners...');
  await ctx.stack.startControlPlane();
  ctx.targets = new BenchChild<TargetsCommand, TargetsReply>('health-targets-process.js');
  const ready = (await ctx.targets.request({ type: 'start', probes: ctx.opts.regions }, (r) => r.type === 'ready')) as Extract<TargetsReply, { type: 'ready' }>;
  ctx.gridPorts = ready.gridPorts;
  ctx.probePorts = ready.probePorts;
  return { etcd: ctx.stack.etcd.endpoint, gridListeners: ready.gridPorts.length * 16, probeListeners: ready.probePorts.length };
}

export async function applyResources(ctx: BenchContext): Promise<Record<string, unknown>> {
  const { services, regions } = ctx.sizes;
  // One more Region for the new-zone phase.
  const docs: Record<string, unknown>[] = Array.from({ length: regions + 1 }, (_, r) => regionDocument(r));
  for (let s = 0; s < services; s++) docs.push(serviceDocument(s, ctx.sizes, ctx.opts.checkInterval));
  ctx.progress(`applying ${regions + 1} regions and ${services} services through the admin API (batches of ${APPLY_BATCH})...`);
  const started = Date.now();
  const latencies: number[] = [];
  let revision = 0;
  for (let i = 0; i < docs.length; i += APPLY_BATCH) {
    const t = Date.now();
    const res = await ctx.stack.api('POST', '/v1/apply', docs.slice(i, i + APPLY_BATCH));
    if (res.status !== 200) throw new Error(`apply at document ${i}: ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
    latencies.push(Date.now() - t);
    revision = res.body.revision;
    if ((i / APPLY_BATCH) % 20 === 19) ctx.note(`${Math.min(i + APPLY_BATCH, docs.length)} documents applied`);
  }
  const seconds = (Date.now() - started) / 1000;
  return { documents: docs.length, batch: APPLY_BATCH, applies: latencies.length, applyMs: summarize(latencies), documentsPerSecond: Math.round(docs.length / seconds), revision };
}
