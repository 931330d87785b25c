// A stand-in for the zone controller's discovery server (the zone controller
// is not what these tests test): it records the WatchRequests and lets the
// test push View messages down every open stream, or break them.
import * as grpc from '@grpc/grpc-js';
import { discoveryProto } from '../../lib/grpc/protos';
import type { View } from '../../proto/generated/meridian/discovery/v1/View';
import type { WatchRequest__Output } from '../../proto/generated/meridian/discovery/v1/WatchRequest';

type Call = grpc.ServerWritableStream<WatchRequest__Output, View>;

export class FakeDiscovery {
  readonly requests: WatchRequest__Output[] = [];
  port = 0;
  private server: grpc.Server | undefined;
  private readonly calls = new Set<Call>();
  private connectWaiters: (() => void)[] = [];
  // Sent to every new stream.
  initial: View | undefined;

  private newServer(): grpc.Server {
    const server = new grpc.Server();
    server.addService(discoveryProto().meridian.discovery.v1.Discovery.service, {
      Watch: (call: Call) => {
        this.requests.push(call.request);
        this.calls.add(call);
        const done = () => this.calls.delete(call);
        call.on('cancelled', done);
        call.on('close', done);
        call.on('error', done);
        if (this.initial) call.write(this.initial);
        const waiters = this.connectWaiters;
        this.connectWaiters = [];
        for (const w of waiters) w();
      },
    });
    return server;
  }

  async start(port = 0): Promise<void> {
    const server = (this.server = this.newServer());
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  connected(): number {
    return this.calls.size;
  }

  waitForConnection(timeoutMs = 5_000): Promise<void> {
    if (this.calls.size > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no discovery client connected')), timeoutMs);
      this.connectWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  send(view: View): void {
    for (const call of this.calls) call.write(view);
  }

  // Ends every stream with an error, as a zone controller that goes away.
  breakStreams(): void {
    for (const call of this.calls) call.destroy(new Error('zone controller went away'));
    this.calls.clear();
  }

  async stop(): Promise<void> {
    this.breakStreams();
    this.server?.forceShutdown();
    this.server = undefined;
  }
}

export function resourceOf(doc: { kind: string; metadata: { name: string } }): { kind: string; name: string; document: Buffer; modRevision: number } {
  return { kind: doc.kind, name: doc.metadata.name, document: Buffer.from(JSON.stringify(doc)), modRevision: 1 };
}
