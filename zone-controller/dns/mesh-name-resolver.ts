// What `<service>.mesh` resolves to: the addresses of the region's mesh
// listeners (the edges' --mesh-advertise, as their reports carry them), while
// the mesh has the service and some region has a healthy instance of it. A
// workload then calls the service through its own region's edge.
//
// No edge reporting a mesh listener is an answer with no addresses (NODATA),
// not an address no workload can use; it is logged, at most once a minute.
import type { Logger } from '../../lib/observability/logger';
import type { MeshAddresses } from '../discovery/proxy-reports';

export interface MeshNameSources {
  // Whether the mesh has a Service of this name.
  serviceExists(service: string): boolean;
  // Whether this or any online region has a healthy instance of it.
  healthyAnywhere(service: string): boolean;
  // The mesh listener addresses the region's edges report now.
  meshAddresses(): MeshAddresses;
}

export const NO_LISTENER_WARN_INTERVAL_MS = 60_000;

export class MeshNameResolver {
  private warnedAtMs: number | undefined;
  private unwarned = 0;

  constructor(
    private readonly sources: MeshNameSources,
    private readonly logger: Logger,
  ) {}

  // undefined: no such name (NXDOMAIN).
  resolve(service: string): MeshAddresses | undefined {
    if (!this.sources.serviceExists(service) || !this.sources.healthyAnywhere(service)) return undefined;
    const addresses = this.sources.meshAddresses();
    if (addresses.v4.length === 0 && addresses.v6.length === 0) this.noListener(service);
    return addresses;
  }

  private noListener(service: string): void {
    const now = Date.now();
    if (this.warnedAtMs !== undefined && now - this.warnedAtMs < NO_LISTENER_WARN_INTERVAL_MS) {
      this.unwarned++;
      return;
    }
    this.logger.warn(
      { service, sameSince: this.unwarned },
      'mesh DNS: no healthy edge of this region reports a mesh listener (meridian edge --mesh-http/--mesh-https); <service>.mesh is answered with no addresses',
    );
    this.warnedAtMs = now;
    this.unwarned = 0;
  }
}
