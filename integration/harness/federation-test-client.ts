// A raw grpc-js client of meridian.federation.v1, so tests drive the real
// stream message by message.
import * as grpc from '@grpc/grpc-js';
import { federationProto } from '../../lib/grpc/protos';
import type { GlobalMessage__Output } from '../../proto/generated/meridian/federation/v1/GlobalMessage';
import type { ZoneMessage } from '../../proto/generated/meridian/federation/v1/ZoneMessage';

export class FederationTestClient {
  private readonly client: InstanceType<ReturnType<typeof federationProto>['meridian']['federation']['v1']['Federation']>;
  private call: grpc.ClientDuplexStream<ZoneMessage, GlobalMessage__Output> | undefined;
  readonly received: { at: number; msg: GlobalMessage__Output }[] = [];
  private cursor = 0;
  status: grpc.StatusObject | undefined;
  private waiters: (() => void)[] = [];

  constructor(address: string) {
    const Federation = federationProto().meridian.federation.v1.Federation;
    this.client = new Federation(address, grpc.credentials.createInsecure());
  }

  open(hello: { region: string; joinToken: string; lastAppliedVersion?: number; zoneId?: string; zoneCaCsr?: string }): void {
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
    this.call!.write(msg);
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
    this.client.close();
  }
}
