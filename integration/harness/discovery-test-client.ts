// A raw grpc-js client of meridian.discovery.v1 for tests.
import * as grpc from '@grpc/grpc-js';
import { discoveryProto } from '../../lib/grpc/protos';
import type { View__Output } from '../../proto/generated/meridian/discovery/v1/View';
import type { ProxyReport } from '../../proto/generated/meridian/discovery/v1/ProxyReport';

export class DiscoveryTestClient {
  private readonly client: InstanceType<ReturnType<typeof discoveryProto>['meridian']['discovery']['v1']['Discovery']>;
  private call: grpc.ClientReadableStream<View__Output> | undefined;
  readonly views: { at: number; view: View__Output }[] = [];
  error: grpc.ServiceError | undefined;

  constructor(address: string) {
    const Discovery = discoveryProto().meridian.discovery.v1.Discovery;
    this.client = new Discovery(address, grpc.credentials.createInsecure());
  }

  open(region: string, proxy = 'test-proxy', mode = 'edge'): void {
    this.call = this.client.Watch({ region, proxy, mode });
    this.call.on('data', (view: View__Output) => this.views.push({ at: Date.now(), view }));
    this.call.on('error', (err: grpc.ServiceError) => (this.error = err));
  }

  async first(timeoutMs = 5000): Promise<View__Output> {
    const deadline = Date.now() + timeoutMs;
    while (!this.views.length) {
      if (this.error) throw this.error;
      if (Date.now() > deadline) throw new Error('no discovery view');
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.views[0]!.view;
  }

  // One Discovery.Report, as a proxy sends it every second; the error when refused.
  report(report: ProxyReport): Promise<grpc.ServiceError | null> {
    return new Promise((resolve) => this.client.Report(report, { deadline: Date.now() + 5000 }, (err) => resolve(err)));
  }

  close(): void {
    this.call?.cancel();
    this.client.close();
  }
}
