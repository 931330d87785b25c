// Starts etcd and global controller replicas as real processes for tests.
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { EtcdProcess } from '../../lib/process/etcd-process';
import { freePort } from '../../lib/process/free-port';
import { PartProcess, waitFor } from './child-process';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const READ_TOKEN = 'test-read-token-0123456789abcdef';

export class GlobalControllerProcess extends PartProcess {
  constructor(readonly grpcPort: number, readonly httpPort: number, etcd: string, dir: string, replica: string, heartbeat = '1s', extra: string[] = []) {
    super(replica, [
      'global-controller', '--etcd', etcd, '--grpc', `127.0.0.1:${grpcPort}`, '--http', `127.0.0.1:${httpPort}`,
      '--tokens-file', path.join(dir, 'tokens'), '--replica', replica, '--heartbeat-interval', heartbeat,
      '--data-key-file', path.join(dir, 'data.key'), ...extra,
    ], dir);
  }

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  async health(): Promise<{ ok: boolean; leader: boolean; storeWarm: boolean; replica: string }> {
    const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2000) });
    return (await res.json()) as { ok: boolean; leader: boolean; storeWarm: boolean; replica: string };
  }

  // Fails at once, with the log, if the process exits instead of coming up.
  async ready(): Promise<void> {
    const state = await waitFor(`${this.name} ready`, async () => (!this.running ? 'exited' : (await this.health()).storeWarm && 'ready'), 20_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n--- ${this.name} log ---\n${this.tail()}`);
    });
    if (state === 'exited') throw new Error(`${this.name} exited before it was ready\n--- ${this.name} log ---\n${this.tail()}`);
  }
}

export class ControlPlane {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-it-'));
  readonly etcd = new EtcdProcess({ dataDir: path.join(this.dir, 'etcd') });
  readonly replicas: GlobalControllerProcess[] = [];

  // `extra` is added to every replica's command line (a function gets the replica's index).
  async start(replicas = 1, heartbeat = '1s', extra: string[] | ((i: number) => Promise<string[]>) = []): Promise<void> {
    fs.mkdirSync(this.etcd.dataDir, { recursive: true });
    fs.writeFileSync(path.join(this.dir, 'tokens'), `# test tokens\nadmin ${ADMIN_TOKEN}\nread ${READ_TOKEN}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(this.dir, 'data.key'), randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    await this.etcd.start();
    for (let i = 0; i < replicas; i++) {
      const args = typeof extra === 'function' ? await extra(i) : extra;
      const gc = new GlobalControllerProcess(await freePort(), await freePort(), this.etcd.endpoint, this.dir, `gc-${i + 1}`, heartbeat, args);
      gc.start();
      this.replicas.push(gc);
    }
    await Promise.all(this.replicas.map((r) => r.ready()));
  }

  get primary(): GlobalControllerProcess {
    return this.replicas[0]!;
  }

  async api(method: string, pathname: string, body?: unknown, token = ADMIN_TOKEN, replica = this.primary): Promise<{ status: number; body: any; headers: Headers }> {
    const res = await fetch(`${replica.url}${pathname}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': typeof body === 'string' ? 'application/yaml' : 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // YAML or text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  async token(region: string, ttl = '1h'): Promise<string> {
    const res = await this.api('POST', '/v1/tokens', { region, ttl });
    if (res.status !== 200) throw new Error(`token create failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.token as string;
  }

  // An instance token for a zone's registry: one service, or "*" for all of the region's.
  async instanceToken(region: string, service = '*', ttl = '1h'): Promise<{ token: string; id: string }> {
    const res = await this.api('POST', '/v1/instance-tokens', { region, service, ttl });
    if (res.status !== 201) throw new Error(`instance token create failed: ${res.status} ${JSON.stringify(res.body)}`);
    return { token: res.body.token as string, id: res.body.id as string };
  }

  async stop(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.stop()));
    await this.etcd.destroy();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  logs(): string {
    return this.replicas.map((r) => `--- ${r.name} ---\n${r.tail()}`).join('\n');
  }
}
