// A protocol upgrade's try: a new connection to the chosen instance (node:net)
// or to a remote region's ingress (the proxy's openIngressConnection: TLS
// with the mesh certificate in controlled mode), with node's HTTP/1.1 client
// on it for the handshake. Its outcome goes to the upgrade
// (upgrade-exchange.ts): switched (101), another answer, or an error before
// an answer (connect failure or timeout, reset, per-try timeout).
//
// A new connection per upgrade: undici's upgrade() resolves only on a 101 (a
// 401 or 404 from the instance could not be passed on) and cannot upgrade
// over the HTTP/2 connections an edge keeps to a remote ingress.
import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Endpoint } from '../balancer/endpoint';
import type { RegionTarget } from '../region-picker/region-target';
import { Attempt } from './attempt';

// Errors with the codes upstream/upstream-error.ts classifies.
class CodedError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

// The upgrade a try belongs to, as the try sees it.
export interface ConnectAttemptOwner {
  onAttemptSwitched(attempt: ConnectAttempt, res: http.IncomingMessage, socket: net.Socket, head: Buffer): void;
  onAttemptAnswer(attempt: ConnectAttempt, res: http.IncomingMessage): void;
  onAttemptError(attempt: ConnectAttempt, err: Error): void;
}

export interface UpgradeRequest {
  method: string;
  path: string;
  headers: string[];
  connectTimeoutMs: number;
}

function onConnectTimeout(attempt: ConnectAttempt, ms: number): void {
  attempt.socket.destroy(new CodedError(`connect timed out after ${ms} ms`, 'UND_ERR_CONNECT_TIMEOUT'));
}

export class ConnectAttempt extends Attempt {
  readonly socket: net.Socket;
  private readonly upstream: http.ClientRequest;
  private connectTimer: NodeJS.Timeout | null;

  constructor(
    private readonly owner: ConnectAttemptOwner,
    target: RegionTarget,
    endpoint: Endpoint | null,
    startedAt: number,
    request: UpgradeRequest,
    openIngressConnection: (address: string) => net.Socket,
  ) {
    super(target, endpoint, startedAt);
    const socket =
      endpoint !== null ? net.connect({ host: endpoint.address, port: endpoint.port, noDelay: true }) : openIngressConnection(target.ingressAddress);
    this.socket = socket;
    this.connectTimer = setTimeout(onConnectTimeout, request.connectTimeoutMs, this, request.connectTimeoutMs);
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => this.clearConnectTimer());
    const upstream = http.request({ method: request.method, path: request.path, headers: request.headers, setHost: false, createConnection: () => socket });
    this.upstream = upstream;
    upstream.on('upgrade', (res: http.IncomingMessage, upSocket: net.Socket, upHead: Buffer) => {
      if (!this.settle(101)) return;
      this.owner.onAttemptSwitched(this, res, upSocket, upHead);
    });
    upstream.on('response', (res: http.IncomingMessage) => {
      if (!this.settle(res.statusCode ?? 0)) return;
      this.owner.onAttemptAnswer(this, res);
    });
    upstream.on('error', (err: Error) => {
      if (!this.settle(0)) return;
      this.owner.onAttemptError(this, err);
    });
    upstream.end();
  }

  protected abortLate(): void {
    this.upstream.destroy(new CodedError('no answer within the per-try timeout', 'UND_ERR_HEADERS_TIMEOUT'));
  }

  // The upgrade no longer wants it (timed out, client gone).
  abandon(): void {
    this.upstream.destroy();
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) {
      clearTimeout(this.connectTimer);
      this.connectTimer = null;
    }
  }

  // Once per try: the first outcome counts, the counts go back down.
  private settle(status: number): boolean {
    if (this.released) return false;
    if (status !== 0) this.headersCame(status);
    this.clearConnectTimer();
    return this.release();
  }
}
