// Choosing and connecting the upstream of one TCP connection, with failover:
// the service's plan as for a request (region-picker/region-picker.ts: the
// local region while it has instances not tried yet, then the nearest
// healthy region; circuits, ejection and soft limits as for requests), a
// local instance by its address and the Service port's instance port, a
// remote region through its ingress (an HTTP/1.1 upgrade to meridian-tcp over
// the mesh connection, tcp-protocol.ts), or through a relay region's ingress
// while the view says its direct tunnel is down. A refused, timed-out or failed
// connect, or an ingress answering anything but 101, goes to the next
// instance, then the next region, within TCP_LOCAL_TRIES tries plus one per
// remote region. Nothing is sent to an upstream before it is connected, so
// every failed try may be retried; once connected, the dial is over.
//
// The region's and instance's in-flight counts hold the try while it
// connects (as an upgrade's do until its 101); the balancer and the circuit
// learn each try's outcome.
import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Backend } from '../backend/backend';
import type { Endpoint } from '../balancer/endpoint';
import { Pick, pickRegion } from '../region-picker/region-picker';
import type { RegionTarget } from '../region-picker/region-target';
import { failureOfStatus, type FailureKind } from '../resilience/retry-policy';
import { REGION_HEADER } from '../request/response-headers';
import { classifyUpstreamError, describeUpstreamError } from '../upstream/upstream-error';
import type { TcpMetrics } from './tcp-metrics';
import { tcpUpgradeHeaders } from './tcp-protocol';

// Local instances tried for one connection (the ingress tries as many).
export const TCP_LOCAL_TRIES = 3;

// How long an edge waits for an ingress's 101: its own connect, then up to
// TCP_LOCAL_TRIES connects of the ingress to its instances; through a relay,
// one more connect (the relay's to the target's ingress).
export function remoteAnswerTimeoutMs(connectTimeoutMs: number, relayed = false): number {
  return connectTimeoutMs * (TCP_LOCAL_TRIES + (relayed ? 2 : 1));
}

export interface TcpLeg {
  socket: net.Socket;
  // What the upstream sent with its 101 (a remote leg's first bytes).
  head: Buffer;
  // The region that serves the connection (the ingress's word for a remote one).
  region: string;
  tries: number;
}

export interface TcpDialFailure {
  // No instance or region could be tried at all.
  noTarget: boolean;
  tries: number;
  kind: FailureKind | null;
  detail: string;
  // The region of the last try ('none' without one).
  region: string;
}

export function isLeg(r: TcpLeg | TcpDialFailure): r is TcpLeg {
  return (r as TcpLeg).socket !== undefined;
}

export interface TcpDialOptions {
  backend: Backend;
  service: string;
  portName: string;
  // How remote regions are reached (an edge, a relay ingress); absent: local
  // instances only (an ingress serving its own region).
  remote?: { open(address: string): net.Socket; sourceIdentity: string | undefined };
  // The regions to try instead of the backend's plan (a relay ingress: its target).
  plan?: readonly RegionTarget[];
  // The hop count of the upgrade this dial serves (a relay ingress); an edge's is 0.
  hops?: number;
  metrics: TcpMetrics;
}

const EMPTY = Buffer.alloc(0);

class CodedError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export class TcpDial {
  private readonly pick = new Pick();
  private triedEndpoints: Endpoint[] | null = null;
  private triedRegions: RegionTarget[] | null = null;
  private readonly maxTries: number;
  private tries = 0;
  private aborted = false;
  private finished = false;
  private cancelTry: (() => void) | null = null;
  private lastKind: FailureKind | null = null;
  private lastDetail = '';
  private lastRegion = 'none';

  constructor(
    private readonly o: TcpDialOptions,
    private readonly done: (result: TcpLeg | TcpDialFailure) => void,
  ) {
    let remotes = 0;
    for (const t of o.plan ?? o.backend.plan) {
      if (t.local) continue;
      // An ingress serving its own region forwards TCP to its own instances only.
      if (o.remote === undefined) (this.triedRegions ??= []).push(t);
      else remotes++;
    }
    this.maxTries = TCP_LOCAL_TRIES + remotes;
  }

  start(): void {
    const now = performance.now();
    if (!this.choose(now)) return this.finish({ noTarget: true, tries: 0, kind: null, detail: `no healthy instance of service '${this.o.service}' in any region`, region: 'none' });
    this.connect(now);
  }

  // The client left: the try in progress is dropped, done is not called.
  abort(): void {
    this.aborted = true;
    this.finished = true;
    this.cancelTry?.();
  }

  private choose(now: number): boolean {
    const b = this.o.backend;
    return pickRegion(this.o.plan ?? b.plan, b.balancer, b.policy.softInFlightPerRegion, this.triedRegions, this.triedEndpoints, now, this.pick);
  }

  private connect(startedAt: number): void {
    const target = this.pick.target!;
    const endpoint = this.pick.endpoint;
    if (endpoint !== null) (this.triedEndpoints ??= []).push(endpoint);
    else (this.triedRegions ??= []).push(target);
    target.inFlight++;
    if (endpoint !== null) endpoint.outstanding++;
    this.tries++;
    this.lastRegion = target.name;
    const timers: NodeJS.Timeout[] = [];
    let socket: net.Socket | undefined;

    // Once per try: the counts go back down and the timers stop.
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      this.cancelTry = null;
      for (const t of timers) clearTimeout(t);
      target.inFlight--;
      if (endpoint !== null) endpoint.outstanding--;
      return true;
    };
    this.cancelTry = () => {
      settle();
      socket?.destroy();
    };
    const fail = (kind: FailureKind, detail: string) => {
      if (!settle()) return;
      socket?.destroy();
      this.failed(target, endpoint, kind, detail);
    };
    const succeed = (leg: TcpLeg) => {
      if (!settle() || this.finished) {
        leg.socket.destroy();
        return;
      }
      const now = performance.now();
      if (endpoint !== null) this.o.backend.balancer.onSuccess(endpoint, now - startedAt, now);
      target.breaker.onSuccess();
      this.finish(leg);
    };
    const connectTimeoutMs = this.o.backend.policy.connectTimeoutMs;
    const onError = (err: Error) => fail(classifyUpstreamError(err), describeUpstreamError(err));

    // A socket that cannot even be made (a bad port, TLS material refused) is a failed connect.
    const make = (open: () => net.Socket): net.Socket | undefined => {
      try {
        return open();
      } catch (err) {
        queueMicrotask(() => fail('connect-failure', describeUpstreamError(err)));
        return undefined;
      }
    };

    if (endpoint !== null) {
      const s = (socket = make(() => net.connect({ host: endpoint.address, port: endpoint.port, noDelay: true, allowHalfOpen: true })));
      if (s === undefined) return;
      timers.push(setTimeout(() => s.destroy(new CodedError(`connect timed out after ${connectTimeoutMs} ms`, 'UND_ERR_CONNECT_TIMEOUT')), connectTimeoutMs));
      s.on('error', onError);
      s.once('connect', () => {
        s.off('error', onError);
        succeed({ socket: s, head: EMPTY, region: target.name, tries: this.tries });
      });
      return;
    }

    const remote = this.o.remote!;
    const s = (socket = make(() => remote.open(target.ingressAddress)));
    if (s === undefined) return;
    timers.push(setTimeout(() => s.destroy(new CodedError(`connect timed out after ${connectTimeoutMs} ms`, 'UND_ERR_CONNECT_TIMEOUT')), connectTimeoutMs));
    s.once(s instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => clearTimeout(timers[0]));
    // Through a relay, the dialled ingress is the relay's (the backend's plan says so) and the target is named.
    const relayed = target.relayVia !== undefined;
    const headers = tcpUpgradeHeaders(this.o.service, this.o.portName, remote.sourceIdentity, (this.o.hops ?? 0) + 1, relayed ? target.name : undefined);
    const req = http.request({ method: 'GET', path: '/', headers, setHost: false, createConnection: () => s });
    const answerMs = remoteAnswerTimeoutMs(connectTimeoutMs, relayed);
    timers.push(setTimeout(() => req.destroy(new CodedError(`no answer to the upgrade within ${answerMs} ms`, 'UND_ERR_HEADERS_TIMEOUT')), answerMs));
    req.on('upgrade', (res: http.IncomingMessage, up: net.Socket, head: Buffer) => {
      // Nothing is read until the connection is piped; a half-close from
      // the ingress is passed on without ending this side.
      up.pause();
      up.allowHalfOpen = true;
      const served = res.headers[REGION_HEADER];
      succeed({ socket: up, head, region: typeof served === 'string' && served !== '' ? served : target.name, tries: this.tries });
    });
    req.on('response', (res: http.IncomingMessage) => {
      res.resume();
      fail(failureOfStatus(res.statusCode ?? 0) ?? '502', `the ingress answered ${res.statusCode}`);
    });
    req.on('error', onError);
    req.end();
  }

  private failed(target: RegionTarget, endpoint: Endpoint | null, kind: FailureKind, detail: string): void {
    const b = this.o.backend;
    const now = performance.now();
    this.lastKind = kind;
    this.lastDetail = detail;
    b.metrics.upstreamError(target.name, kind);
    if (endpoint !== null && b.balancer.onFailure(endpoint, now) > 0) b.metrics.ejections.inc();
    target.breaker.onFailure(now);
    if (this.aborted) return;
    if (this.tries < this.maxTries && this.choose(now)) {
      this.o.metrics.failovers.labels(this.o.service, this.o.portName).inc();
      b.metrics.retries.inc();
      this.connect(now);
      return;
    }
    this.finish({ noTarget: false, tries: this.tries, kind, detail, region: this.lastRegion });
  }

  private finish(result: TcpLeg | TcpDialFailure): void {
    if (this.finished) return;
    this.finished = true;
    this.done(result);
  }
}
