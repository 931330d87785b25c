// The dial for one client connection, at an edge's TCP listener and at an
// ingress's meridian-tcp upgrade alike: counted in the backend's in flight
// until it ends, which is the first of its result and the client's close. A
// leg connected after the client left is closed; a client gone while
// connecting drops the try and is counted.
import type * as net from 'node:net';
import type { ClientBuffer } from './tcp-client-buffer';
import type { TcpMetrics } from './tcp-metrics';
import { isLeg, TcpDial, type TcpDialFailure, type TcpDialOptions, type TcpLeg } from './tcp-target';

export function startClientDial(
  options: TcpDialOptions,
  client: net.Socket,
  buffer: ClientBuffer,
  metrics: TcpMetrics,
  onResult: (result: TcpLeg | TcpDialFailure) => void,
): void {
  const { backend, service, portName } = options;
  backend.metrics.inFlight.inc();
  let dialing = true;
  const dialOver = () => {
    if (!dialing) return false;
    dialing = false;
    backend.metrics.inFlight.dec();
    return true;
  };
  const dial = new TcpDial(options, (result) => {
    if (!dialOver()) {
      if (isLeg(result)) result.socket.destroy();
      return;
    }
    onResult(result);
  });
  client.once('close', () => {
    if (!dialOver()) return;
    dial.abort();
    buffer.discard();
    metrics.connection(service, portName, 'none', 'client-closed');
  });
  dial.start();
}
