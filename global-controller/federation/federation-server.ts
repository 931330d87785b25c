// The gRPC server of meridian.federation.v1: one ZoneSession per stream.
import * as grpc from '@grpc/grpc-js';
import { federationProto } from '../../lib/grpc/protos';
import { ZoneSession, type SyncCall, type ZoneSessionDeps } from './zone-session';
import { STREAM_SERVER_KEEPALIVE } from '../../lib/grpc/stream-keepalive';

export class FederationServer {
  private readonly server = new grpc.Server({
    ...STREAM_SERVER_KEEPALIVE,
  });
  private readonly sessions = new Set<ZoneSession>();
  boundPort = 0;

  constructor(private readonly deps: ZoneSessionDeps) {
    this.server.addService(federationProto().meridian.federation.v1.Federation.service, {
      Sync: (call: SyncCall) => {
        const session = new ZoneSession(call, deps, (s) => {
          this.sessions.delete(s);
          deps.metrics.connectedZones.set(this.sessions.size);
        });
        this.sessions.add(session);
        deps.metrics.connectedZones.set(this.sessions.size);
      },
    });
  }

  listen(address: string, credentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, credentials, (err, port) => {
        if (err) return reject(new Error(`cannot listen for federation on ${address}: ${err.message}`));
        this.boundPort = port;
        resolve(port);
      });
    });
  }

  connectedRegions(): string[] {
    return [...this.sessions].map((s) => s.zoneRegion).filter((r): r is string => !!r);
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.end();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 2000);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
