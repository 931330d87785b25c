// --workers N: node:cluster. The primary forks N workers that run the same
// command line and share the listening sockets; it serves the admin API for
// all of them (/metrics aggregated over the workers with prom-client's
// AggregatorRegistry, /v1/view from the first worker), forks a replacement
// for a worker that dies, and on SIGTERM drains every worker and exits 0
// once they all have. Each worker keeps its own view source (in controlled
// mode, one discovery stream per worker).
import cluster, { type Worker } from 'node:cluster';
import { createLogger, type Logger } from '../../lib/observability/logger';
import { prom, type Registry } from '../../lib/observability/metrics';
import { AdminServer } from '../observability/admin-server';
import type { EdgeOptions } from '../options';

const VIEW_REQUEST = 'meridian-edge:view-request';
const VIEW_RESPONSE = 'meridian-edge:view-response';
const READY = 'meridian-edge:ready';
const READY_TIMEOUT_MS = 30_000;
const RESTARTS_PER_MINUTE = 10;

interface ViewMessage {
  type: string;
  id: number;
  view?: unknown;
}

export async function runPrimary(options: EdgeOptions, logger: Logger = createLogger('edge', { name: options.name, role: 'primary' })): Promise<void> {
  let draining = false;
  const restarts: number[] = [];
  const pending = new Map<number, (view: unknown) => void>();
  let nextId = 1;
  let ready = 0;
  let onReady: (() => void) | undefined;

  const fork = (): Worker => {
    const worker = cluster.fork({ MERIDIAN_EDGE_WORKER: '1' });
    worker.on('message', (msg: ViewMessage) => {
      if (msg?.type === READY) {
        ready++;
        onReady?.();
        return;
      }
      if (msg?.type !== VIEW_RESPONSE) return;
      pending.get(msg.id)?.(msg.view);
      pending.delete(msg.id);
    });
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    if (draining) return;
    const now = Date.now();
    while (restarts.length > 0 && now - restarts[0] > 60_000) restarts.shift();
    if (restarts.length >= RESTARTS_PER_MINUTE) {
      logger.error({ pid: worker.process.pid, code, signal }, 'worker died; too many restarts in a minute, not replacing it');
      return;
    }
    restarts.push(now);
    logger.error({ pid: worker.process.pid, code, signal }, 'worker died; starting a new one');
    fork();
  });

  for (let i = 0; i < options.workers; i++) fork();
  // Every worker listening (and able to answer the admin API) before the
  // primary says it started.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      logger.warn({ ready, workers: options.workers }, 'not every worker is ready yet');
      resolve();
    }, READY_TIMEOUT_MS);
    onReady = () => {
      if (ready < options.workers) return;
      clearTimeout(timer);
      onReady = undefined;
      resolve();
    };
  });

  let admin: AdminServer | undefined;
  if (options.admin) {
    const aggregator = new prom.AggregatorRegistry();
    admin = new AdminServer({
      metrics: async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }),
      health: () => {
        const alive = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && !w.isDead()).length;
        if (draining) return { ok: false, status: 'draining' };
        return alive > 0 ? { ok: true, status: `ok (${alive} workers)` } : { ok: false, status: 'no worker running' };
      },
      view: () => {
        const worker = Object.values(cluster.workers ?? {}).find((w) => w !== undefined && !w.isDead());
        if (!worker) return { error: 'no worker running' };
        const id = nextId++;
        return new Promise((resolve) => {
          const timer = setTimeout(() => {
            pending.delete(id);
            resolve({ error: 'the worker did not answer' });
          }, 2_000);
          pending.set(id, (view) => {
            clearTimeout(timer);
            resolve({ workers: Object.keys(cluster.workers ?? {}).length, ...(view as object) });
          });
          worker.send({ type: VIEW_REQUEST, id });
        });
      },
    }, { tokenDigest: options.adminTokenDigest });
    await admin.listen(options.admin.host, options.admin.port);
  }
  logger.info({ workers: options.workers, admin: options.admin }, 'primary started');

  const stop = (signal: NodeJS.Signals) => {
    if (draining) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    draining = true;
    logger.info({ signal }, 'signal received: draining the workers');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
    const exited = workers.map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
    for (const w of workers) w.process.kill('SIGTERM');
    const deadline = setTimeout(() => {
      logger.warn('workers did not exit within the drain period; killing them');
      for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
    }, options.drainPeriodMs + 5_000);
    void Promise.all(exited).then(async () => {
      clearTimeout(deadline);
      await admin?.close();
      logger.info('all workers drained');
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });
}

// In a worker, before it starts: answer the primary's /metrics requests.
export function serveWorkerMetrics(registry: Registry): void {
  new prom.AggregatorRegistry();
  prom.AggregatorRegistry.setRegistries([registry]);
}

// In a worker, once it listens: answer /v1/view requests and say it is ready.
export function serveWorker(gateway: { viewSummary(): Record<string, unknown> }): void {
  process.on('message', (msg: ViewMessage) => {
    if (msg?.type !== VIEW_REQUEST) return;
    process.send?.({ type: VIEW_RESPONSE, id: msg.id, view: { pid: process.pid, ...gateway.viewSummary() } });
  });
  process.send?.({ type: READY });
}
