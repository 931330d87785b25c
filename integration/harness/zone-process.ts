// A zone controller as a real process, on free ports.
import * as path from 'node:path';
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { freePort } from '../../lib/process/free-port';
import { PartProcess, waitFor } from './child-process';

const bearer = (token: string | undefined): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

export class ZoneProcess extends PartProcess {
  // The instance token register() and deregister() send unless given another
  // (ControlPlane.instanceToken).
  instanceToken: string | undefined;

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

  // `extra`: more zone-controller flags (e.g. --leaf-lifetime 6s). The zone
  // gets a state key (`<region>.state.key` beside its state dir, made once,
  // so a zone created again in the same dir keeps it) unless `extra` names
  // its own --state-key-file or `stateKey` is false.
  static async create(region: string, globalGrpc: number, token: string, dir: string, extra: string[] = [], { stateKey = true } = {}): Promise<ZoneProcess> {
    const tokenFile = path.join(dir, `${region}.token`);
    fs.writeFileSync(tokenFile, token, { mode: 0o600 });
    const ports = { http: await freePort(), grpc: await freePort(), dns: await freePort(), ingress: await freePort() };
    const keyFlags = stateKey && !extra.includes('--state-key-file') ? ['--state-key-file', ZoneProcess.stateKeyFile(dir, region)] : [];
    return new ZoneProcess(region, ports, path.join(dir, `state-${region}`), globalGrpc, tokenFile, dir, [...keyFlags, ...extra]);
  }

  // The region's state key in `dir`, made (32 random bytes, base64, mode 0600) if it is not there.
  static stateKeyFile(dir: string, region: string): string {
    const file = path.join(dir, `${region}.state.key`);
    if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    return file;
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

  // A zone just welcomed may not hold the instance token policy yet (it
  // comes right after Welcome): that one refusal is waited out.
  async register(body: Record<string, unknown>, token = this.instanceToken): Promise<{ status: number; body: any; headers: Headers }> {
    return this.untilPolicy(() => fetch(`${this.url}/v1/instances`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(token) }, body: JSON.stringify(body) }));
  }

  async deregister(id: string, token = this.instanceToken): Promise<{ status: number; body: any; headers: Headers }> {
    return this.untilPolicy(() => fetch(`${this.url}/v1/instances/${encodeURIComponent(id)}`, { method: 'DELETE', headers: bearer(token) }));
  }

  // From loopback, without a token: every instance.
  async instances(): Promise<{ id: string; service: string; healthy: boolean; tokenId?: string; ports?: Record<string, number> }[]> {
    const res = await fetch(`${this.url}/v1/instances`);
    return ((await res.json()) as { instances: { id: string; service: string; healthy: boolean; tokenId?: string; ports?: Record<string, number> }[] }).instances;
  }

  private async untilPolicy(send: () => Promise<Response>): Promise<{ status: number; body: any; headers: Headers }> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const res = await send();
      const body = (await res.json()) as { error?: string };
      if (res.status === 401 && /holds no instance token signing key/.test(body.error ?? '') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      return { status: res.status, body, headers: res.headers };
    }
  }
}
