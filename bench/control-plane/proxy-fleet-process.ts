// Child process: simulated proxies, each a raw client of a zone's discovery
// stream (Discovery/Watch) on its own connection with grpc-js defaults (4 MiB
// messages at most), as the edge's client has. Each applies what it receives to a ProxyState and
// tells the parent when a watched key changes.
import * as grpc from '@grpc/grpc-js';
import { discoveryProto } from '../../lib/grpc/protos';
import type { View__Output } from '../../proto/generated/meridian/discovery/v1/View';
import { ProxyState, type KeyChange, type ProxyStats } from './proxy-state';

export interface ProxySpec {
  name: string;
  region: string;
  address: string;
}

export type FleetCommand =
  | { type: 'connect'; proxies: ProxySpec[]; watched: string[] }
  | { type: 'close'; names: string[] }
  | { type: 'stats'; id: number };
export type FleetReply =
  | { type: 'changes'; proxy: string; at: number; changes: KeyChange[] }
  | { type: 'stats'; id: number; proxies: ProxyStats[] };

type DiscoveryStub = InstanceType<ReturnType<typeof discoveryProto>['meridian']['discovery']['v1']['Discovery']>;

class SimulatedProxy {
  private readonly client: DiscoveryStub;
  private call: grpc.ClientReadableStream<View__Output> | undefined;
  readonly state: ProxyState;
  connected = false;
  error: string | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(readonly spec: ProxySpec, watched: string[]) {
    const Discovery = discoveryProto().meridian.discovery.v1.Discovery;
    this.client = new Discovery(spec.address, grpc.credentials.createInsecure());
    this.state = new ProxyState(spec.region, watched);
  }

  open(): void {
    if (this.closed) return;
    // Partial remote regions when the zone offers them, as a current proxy would ask.
    const call = this.client.Watch({ region: this.spec.region, proxy: this.spec.name, mode: 'edge', partialRegions: true });
    this.call = call;
    call.on('data', (view: View__Output) => {
      const at = Date.now();
      this.connected = true;
      const changes = this.state.apply(view);
      if (changes.length) send({ type: 'changes', proxy: this.spec.name, at, changes });
    });
    call.on('error', (err: grpc.ServiceError) => {
      this.connected = false;
      this.error = `${grpc.status[err.code]}: ${err.details}`;
      // Reconnect like a proxy does (bounded by close()).
      if (!this.closed) this.retry = setTimeout(() => this.open(), 500);
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.call?.cancel();
    this.client.close();
  }
}

const proxies = new Map<string, SimulatedProxy>();

function send(reply: FleetReply): void {
  process.send?.(reply);
}

process.on('message', (cmd: FleetCommand) => {
  switch (cmd.type) {
    case 'connect':
      for (const spec of cmd.proxies) {
        const p = new SimulatedProxy(spec, cmd.watched);
        proxies.set(spec.name, p);
        p.open();
      }
      return;
    case 'close':
      for (const name of cmd.names) {
        proxies.get(name)?.close();
        proxies.delete(name);
      }
      return;
    case 'stats':
      return send({ type: 'stats', id: cmd.id, proxies: [...proxies.values()].map((p) => p.state.stats(p.spec.name, p.connected, p.error)) });
  }
});
process.on('disconnect', () => process.exit(0));
