// What an exchange reads from the proxy it runs in. The proxy implements it;
// the request code depends on this interface, not on the proxy, so the proxy
// can build exchanges without an import circle.
import type { Socket } from 'node:net';
import type { Logger } from '../../lib/observability/logger';
import type { BackendSet } from '../backend/backend-set';
import type { IngressAuthorizer } from '../identity/ingress-authorizer';
import type { MeshAuthorizer } from '../identity/mesh-authorizer';
import type { AccessLog } from '../observability/access-log';
import type { ServiceMetrics } from '../observability/edge-metrics';
import type { ForwardingOptions } from '../router/forwarded-headers';
import type { Router } from '../router/router';
import type { ClientRequest } from './client-types';

export type ProxyMode = 'edge' | 'ingress';

// Where a request came in: the public listeners (or an ingress's), or the
// mesh listener of the region's own workloads.
export type RequestEntry = 'public' | 'mesh';

export interface ExchangeContext {
  readonly mode: ProxyMode;
  // This proxy's name (x-meridian-edge).
  readonly name: string;
  readonly region: string;
  // An edge refuses (508) a request that already passed this many gateways.
  readonly maxHops: number;
  readonly backends: BackendSet;
  readonly accessLog: AccessLog;
  readonly forwarding: ForwardingOptions;
  readonly logger: Logger;
  // A new connection to a remote region's ingress (host:port), for a protocol upgrade.
  readonly openIngressConnection: (address: string) => Socket;
  readonly authorizer: IngressAuthorizer | undefined;
  // The mesh listener's caller checks (an edge with --mesh-http).
  readonly meshAuthorizer: MeshAuthorizer | undefined;
  // The mesh listener's own ports (--mesh-http, --mesh-https): a request
  // there is for a service's first HTTP port.
  readonly meshListenerPorts: ReadonlySet<number>;
  // Requests answered before a service was known (404, 508...).
  readonly unrouted: ServiceMetrics;
  readonly router: Router;
  readonly draining: boolean;
  // Called once when an exchange has finished, whatever its outcome.
  exchangeDone(req: ClientRequest): void;
}
