// A raw grpc-js client of meridian.federation.v1, so tests drive the real
// stream message by message. It connects as a joining zone does: TLS with the
// root pinned by the join token's fingerprint, no client certificate, and the
// CSR of a fresh zone CA key in Hello (unless the test gives one, or '' for
// none); or as a joined zone, with the client certificate the test gives and
// its zone CA named in Hello.
import * as grpc from '@grpc/grpc-js';
import { federationProto } from '../../lib/grpc/protos';
import { peekJoinToken } from '../../lib/auth/join-token-payload';
import { joinCredentials } from '../../lib/grpc/join-credentials';
import { meshChannelCredentials, meshChannelOptions } from '../../lib/grpc/mesh-credentials';
import { testZoneCaKey } from './zone-ca-key';
import type { GlobalMessage__Output } from '../../proto/generated/meridian/federation/v1/GlobalMessage';
import type { ZoneMessage } from '../../proto/generated/meridian/federation/v1/ZoneMessage';

export class FederationTestClient {
  private client: InstanceType<ReturnType<typeof federationProto>['meridian']['federation']['v1']['Federation']> | undefined;
  private call: grpc.ClientDuplexStream<ZoneMessage, GlobalMessage__Output> | undefined;
  private opened: Promise<void> | undefined;
  readonly received: { at: number; msg: GlobalMessage__Output }[] = [];
  private cursor = 0;
  status: grpc.StatusObject | undefined;
  private waiters: (() => void)[] = [];

  // rootsPem: trust for tokens that carry no root fingerprint (malformed ones);
  // clientCertificate: connect as a zone that has joined (mTLS).
  constructor(
    private readonly address: string,
    private readonly options: { rootsPem?: string[]; trustDomain?: string; clientCertificate?: { certChainPem: string; keyPem: string } } = {},
  ) {}

  open(hello: TestHello): void {
    this.opened = this.connect(hello);
    // A failure shows in next()/ended() as the stream's status.
    this.opened.catch((err: Error) => {
      this.status = { code: grpc.status.UNAVAILABLE, details: `TLS: ${err.message}`, metadata: new grpc.Metadata() };
      this.wake();
    });
  }

  private async connect(hello: TestHello): Promise<void> {
    const { rootsPem, trustDomain = 'meridian.local', clientCertificate } = this.options;
    if (clientCertificate) hello = { zoneCaCertificate: secondCertificate(clientCertificate.certChainPem), ...hello };
    else if (hello.zoneCaCsr === undefined) hello = { ...hello, zoneCaCsr: (await testZoneCaKey(hello.region, trustDomain)).csr };
    const credentials = peekJoinToken(hello.joinToken).rootFingerprint || !rootsPem
      ? await joinCredentials(this.address, hello.joinToken, clientCertificate)
      : meshChannelCredentials({ rootsPem, ...clientCertificate }, { trustDomain, roles: ['global'] });
    const Federation = federationProto().meridian.federation.v1.Federation;
    this.client = new Federation(this.address, credentials, meshChannelOptions(this.address));
    const call = this.client.Sync();
    this.call = call;
    call.on('data', (msg: GlobalMessage__Output) => {
      this.received.push({ at: Date.now(), msg });
      this.wake();
    });
    call.on('status', (s) => {
      this.status = s;
      this.wake();
    });
    call.on('error', () => undefined);
    call.write({ hello: { zoneId: 'test-zone', lastAppliedVersion: 0, ...hello } });
  }

  send(msg: ZoneMessage): void {
    void this.opened!.then(() => this.call!.write(msg), () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  // The next message (after those already taken) that matches.
  async next(match: (m: GlobalMessage__Output) => boolean = () => true, timeoutMs = 5000): Promise<GlobalMessage__Output & { at: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.received.length) {
        const r = this.received[this.cursor++]!;
        if (match(r.msg)) return Object.assign(r.msg, { at: r.at });
      }
      if (this.status) throw new Error(`stream ended: ${grpc.status[this.status.code]} ${this.status.details}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a federation message');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async ended(timeoutMs = 5000): Promise<grpc.StatusObject> {
    const deadline = Date.now() + timeoutMs;
    while (!this.status) {
      if (Date.now() > deadline) throw new Error('stream did not end');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.status;
  }

  close(): void {
    this.call?.cancel();
    this.client?.close();
  }
}

export interface TestHello {
  region: string;
  joinToken: string;
  lastAppliedVersion?: number;
  zoneId?: string;
  zoneCaCsr?: string;
  zoneCaCertificate?: string;
}

// The zone CA of a chain "leaf + zone CA".
function secondCertificate(chainPem: string): string {
  return chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)?.[1] ?? '';
}
