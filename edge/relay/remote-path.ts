// How this proxy reaches a remote region's ingress: directly at its own
// ingress address, or, while the zone controller says the direct tunnel is
// down and another region still reaches it, through that region's ingress
// (fly-proxy style, one relay hop at most). The pool is keyed by the region
// whose ingress is dialled, so a relay shares the pool of direct traffic to
// the relay region.
import type { RemoteRegion } from '../config/edge-view';

export interface RemotePath {
  // The region whose ingress the connection goes to, and its address.
  dialRegion: string;
  address: string;
  // The relay region, when not direct.
  relayVia: string | undefined;
}

export function remotePath(r: RemoteRegion): RemotePath | undefined {
  if (r.relayVia !== undefined && r.relayIngressAddress !== undefined && r.relayVia !== r.name) {
    return { dialRegion: r.relayVia, address: r.relayIngressAddress, relayVia: r.relayVia };
  }
  if (r.ingressAddress === '') return undefined;
  return { dialRegion: r.name, address: r.ingressAddress, relayVia: undefined };
}
