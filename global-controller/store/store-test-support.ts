// Helpers for the store's tests against a real etcd: a client, documents, a
// TCP proxy that can cut the store off etcd while etcd keeps running, and a
// watch on the process for errors nobody handled.
import * as net from 'node:net';
import { Etcd3, type IOptions } from 'etcd3';
import { createLogger, silentLogger } from '../../lib/observability/logger';
import { createEtcdClient } from '../etcd-client';
import { ResourceStore } from './resource-store';
import type { StoredDocument } from './types';

// etcd3's reconnect timers are not unref'd and its default backoff grows to
// 30 s: with a constant short one, a test process exits as soon as it is done.
type WatchBackoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;
const shortWatchBackoff: WatchBackoff = { duration: 100, next: () => shortWatchBackoff };

// etcd3's default fault handling (retry x3, circuit breaker open for 5 s).
export function testEtcdClient(endpoint: string): Etcd3 {
  return new Etcd3({ hosts: endpoint, faultHandling: { watchBackoff: shortWatchBackoff } });
}

// The global controller's own client (short circuit breaker, no retries):
// what the store runs with in production, and quick to recover in tests.
export function productionEtcdClient(endpoint: string): Etcd3 {
  return createEtcdClient([endpoint]);
}

let prefixCounter = 0;
// Each test its own key space, so tests on one etcd do not see each other.
export function uniquePrefix(): string {
  prefixCounter += 1;
  return `/meridian-test/${process.pid}-${prefixCounter}/`;
}

export function newStore(etcd: Etcd3, prefix: string, opts: { start?: boolean; callTimeoutMs?: number } = {}): ResourceStore {
  // MERIDIAN_STORE_TEST_LOGS=1 shows what the stores do.
  const logger = process.env.MERIDIAN_STORE_TEST_LOGS ? createLogger('store-test', { prefix }) : silentLogger();
  const store = new ResourceStore({ etcd, logger, prefix, callTimeoutMs: opts.callTimeoutMs });
  if (opts.start ?? true) store.start();
  return store;
}

export function doc(kind: string, name: string, spec: unknown = {}): StoredDocument {
  return { apiVersion: 'meridian.dev/v1', kind, metadata: { name }, spec };
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// Collects unhandled rejections and uncaught exceptions while installed.
export function trackProcessFailures(): { failures: unknown[]; remove(): void } {
  const failures: unknown[] = [];
  const record = (err: unknown): void => {
    failures.push(err);
  };
  process.on('unhandledRejection', record);
  process.on('uncaughtException', record);
  return {
    failures,
    remove: () => {
      process.off('unhandledRejection', record);
      process.off('uncaughtException', record);
    },
  };
}

// etcd's own count of open watchers and watch streams, from its metrics.
export async function etcdWatchCounts(endpoint: string): Promise<{ watchers: number; streams: number }> {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  const gauge = (name: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    if (!line) throw new Error(`etcd does not report ${name}`);
    return Number(line.split(' ')[1]);
  };
  return { watchers: gauge('etcd_debugging_mvcc_watcher_total'), streams: gauge('etcd_debugging_mvcc_watch_stream_total') };
}

// A loopback TCP proxy in front of etcd, to fail the link while etcd itself
// keeps running (so a test can change and compact etcd behind the client's
// back). cut(): connections drop and new ones are refused, as when etcd is
// down. stall(): connections stay open but nothing gets through, as in a
// network partition, where only deadlines help.
export class CuttableProxy {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private readonly held = new Set<net.Socket>();
  private state: 'open' | 'cut' | 'stalled' = 'open';
  port = 0;

  constructor(private readonly targetPort: number) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  cut(): void {
    this.state = 'cut';
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    for (const socket of this.held) socket.destroy();
    this.held.clear();
  }

  stall(): void {
    this.state = 'stalled';
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  restore(): void {
    const wasStalled = this.state === 'stalled';
    this.state = 'open';
    if (!wasStalled) return;
    for (const [client, upstream] of this.pairs) {
      client.pipe(upstream);
      upstream.pipe(client);
    }
    for (const socket of this.held) this.connect(socket);
    this.held.clear();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.state === 'cut') {
      client.destroy();
    } else if (this.state === 'stalled') {
      client.pause();
      this.held.add(client);
      client.on('close', () => this.held.delete(client));
    } else {
      this.connect(client);
    }
  }

  private connect(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    for (const socket of pair) {
      socket.on('error', () => undefined);
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      });
    }
  }
}
