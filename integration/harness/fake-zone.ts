// A zone controller stand-in for tests of the global view: joins over the
// real federation stream, reports what the test says, and heartbeats until
// told to fall silent.
import type { ZoneReport } from '../../proto/generated/meridian/federation/v1/ZoneReport';
import type { ControlPlane } from './global-controller-process';
import { FederationTestClient } from './federation-test-client';

export class FakeZone {
  private client: FederationTestClient | undefined;
  private beat: NodeJS.Timeout | undefined;

  constructor(readonly region: string) {}

  async join(cp: ControlPlane): Promise<void> {
    const client = new FederationTestClient(`127.0.0.1:${cp.primary.grpcPort}`);
    this.client = client;
    client.open({ region: this.region, joinToken: await cp.token(this.region), zoneId: `${this.region}-fake` });
    const snap = await client.next((m) => m.message === 'snapshot');
    client.send({ ack: { version: snap.snapshot!.version } });
  }

  report(report: Omit<ZoneReport, 'region'>): void {
    this.client!.send({ report: { region: this.region, ...report } });
  }

  // Heartbeats well inside the controller's interval, so the zone stays online.
  heartbeat(everyMs = 300): void {
    clearInterval(this.beat);
    this.beat = setInterval(() => this.client?.send({ heartbeat: { sentAtMs: Date.now() } }), everyMs);
  }

  silence(): void {
    clearInterval(this.beat);
    this.beat = undefined;
  }

  close(): void {
    this.silence();
    this.client?.close();
    this.client = undefined;
  }
}
