// Runs a real etcd server as a child process on loopback: used by the demo and
// by every integration test that needs a store. Each instance gets its own
// data directory and free ports, so tests can run side by side.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './free-port';

export interface EtcdProcessOptions {
  dataDir?: string;
  clientPort?: number;
  peerPort?: number;
  name?: string;
  // Keep the output of etcd here; default: <dataDir>/etcd.log
  logFile?: string;
}

export class EtcdProcess {
  readonly dataDir: string;
  clientPort = 0;
  peerPort = 0;
  private child: ChildProcess | undefined;
  private readonly ownsDataDir: boolean;

  constructor(private readonly opts: EtcdProcessOptions = {}) {
    this.ownsDataDir = !opts.dataDir;
    this.dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-etcd-'));
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.clientPort ||= this.opts.clientPort ?? (await freePort());
    this.peerPort ||= this.opts.peerPort ?? (await freePort());
    const name = this.opts.name ?? 'meridian';
    const log = fs.openSync(this.opts.logFile ?? path.join(this.dataDir, 'etcd.log'), 'a');
    const client = `http://127.0.0.1:${this.clientPort}`;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    this.child = spawn('etcd', [
      '--name', name,
      '--data-dir', path.join(this.dataDir, 'data'),
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `${name}=${peer}`,
      '--initial-cluster-state', 'new',
      // Without it etcd keeps every revision of every key until its quota
      // (2 GB) fills and it refuses writes; watches resume within the hour.
      '--auto-compaction-mode', 'periodic', '--auto-compaction-retention', '1h',
      '--log-level', 'warn',
    ], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const child = this.child;
    const spawnError = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`cannot start etcd (is etcd-server installed?): ${err.message}`)));
      child.once('exit', (code) => reject(new Error(`etcd exited with ${code} at start; see ${this.dataDir}/etcd.log`)));
    });
    spawnError.catch(() => undefined);
    await Promise.race([this.waitHealthy(15_000), spawnError]);
  }

  private async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${this.endpoint}/health`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) {
          const body = (await res.json()) as { health?: string };
          if (body.health === 'true') return;
        }
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`etcd did not become healthy on ${this.endpoint} within ${timeoutMs} ms`);
  }

  // Stops etcd; the data directory stays, so start() brings the same data back.
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill(signal);
    });
    this.child = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
    if (this.ownsDataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
