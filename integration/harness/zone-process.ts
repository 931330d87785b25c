// A zone controller as a real process, on free ports.
import * as path from 'node:path';
import * as fs from 'node:fs';
import { freePort } from '../../lib/process/free-port';
import { PartProcess, waitFor } from './child-process';

export class ZoneProcess extends PartProcess {
  constructor(
    readonly region: string,
    readonly ports: { http: number; grpc: number; dns: number; ingress: number },
    readonly stateDir: string,
    globalGrpc: number,
    readonly tokenFile: string,
    logDir: string,
    extra: string[] = [],
  ) {
    super(`zone-${region}`, [
      'zone-controller', '--region', region, '--global', `127.0.0.1:${globalGrpc}`, '--join-token-file', tokenFile,
      '--http', `127.0.0.1:${ports.http}`, '--grpc', `127.0.0.1:${ports.grpc}`, '--dns', `127.0.0.1:${ports.dns}`,
      '--ingress', `127.0.0.1:${ports.ingress}`, '--state-dir', stateDir, ...extra,
    ], logDir);
  }

  // `extra`: more zone-controller flags (e.g. --leaf-lifetime 6s).
  static async create(region: string, globalGrpc: number, token: string, dir: string, extra: string[] = []): Promise<ZoneProcess> {
    const tokenFile = path.join(dir, `${region}.token`);
    fs.writeFileSync(tokenFile, token, { mode: 0o600 });
    const ports = { http: await freePort(), grpc: await freePort(), dns: await freePort(), ingress: await freePort() };
    return new ZoneProcess(region, ports, path.join(dir, `state-${region}`), globalGrpc, tokenFile, dir, extra);
  }

  // A join token is good for one join: a zone that must join again (its
  // zone CA gone) gets a new one in its token file before it starts.
  useToken(token: string): void {
    fs.writeFileSync(this.tokenFile, token, { mode: 0o600 });
  }

  get discoveryAddress(): string {
    return `127.0.0.1:${this.ports.grpc}`;
  }

  get url(): string {
    return `http://127.0.0.1:${this.ports.http}`;
  }

  async health(): Promise<{ ok: boolean; federated: boolean; version: number }> {
    const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2000) });
    return (await res.json()) as { ok: boolean; federated: boolean; version: number };
  }

  async waitUp(federated: boolean | undefined = true): Promise<void> {
    // Fails at once, with the log, if the process exits instead of coming up.
    const state = await waitFor(`${this.name} up`, async () => {
      if (!this.running) return 'exited';
      const h = await this.health();
      return (federated === undefined || h.federated === federated) && h.ok ? 'up' : undefined;
    }, 20_000, 100).catch((err) => {
      throw new Error(`${(err as Error).message}\n--- ${this.name} log ---\n${this.tail()}`);
    });
    if (state === 'exited') throw new Error(`${this.name} exited before it was up\n--- ${this.name} log ---\n${this.tail()}`);
  }

  async register(body: Record<string, unknown>): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.url}/v1/instances`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  }

  async instances(): Promise<{ id: string; service: string; healthy: boolean }[]> {
    const res = await fetch(`${this.url}/v1/instances`);
    return ((await res.json()) as { instances: { id: string; service: string; healthy: boolean }[] }).instances;
  }
}
