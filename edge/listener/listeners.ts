// The proxy's listeners, started and stopped together: plain HTTP (or the
// redirect to HTTPS) and HTTPS with HTTP/2, and an edge's mesh listener for
// the region's workloads (plain HTTP and h2c, and TLS) on the same code. In a multi-worker process every
// worker listens on the same addresses; node's cluster module shares the
// sockets.
import type * as http from 'node:http';
import type * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { EdgeMetrics } from '../observability/edge-metrics';
import type { Proxy } from '../proxy';
import type { ConnectionTracker } from './connection-tracker';
import { createHttpListener, type Http1Engine } from './http-listener';
import { createHttpsListener } from './https-listener';
import type { ListenerLimits } from './limits';
import { redirectToHttps, redirectUpgradeToHttps } from './redirect';
import type { ClientAuth, SecureContextStore } from './secure-contexts';

export interface HostPort {
  host: string;
  port: number;
}

export interface ListenersOptions {
  http?: HostPort;
  https?: HostPort;
  redirectHttp: boolean;
  limits: ListenerLimits;
  contexts?: SecureContextStore;
  clientAuth?: ClientAuth;
  // Ask HTTPS clients for a certificate without refusing the handshake.
  requestClientCert?: boolean;
  connections: ConnectionTracker;
  metrics: EdgeMetrics;
  meshHttp?: HostPort;
  meshHttps?: HostPort;
  // The mesh TLS listener's certificate (the proxy's mesh leaf).
  meshContexts?: SecureContextStore;
  // Who serves HTTP/1.1 on the plain listeners: the fast path (default) or node:http.
  http1Engine?: Http1Engine;
}

type Which = 'http' | 'https' | 'mesh-http' | 'mesh-https';

export class Listeners {
  private httpServer: http.Server | undefined;
  private httpsServer: http2.Http2SecureServer | undefined;
  private meshPlainServer: http.Server | undefined;
  private meshHttpsServer: http2.Http2SecureServer | undefined;

  constructor(
    private readonly proxy: Proxy,
    private readonly options: ListenersOptions,
  ) {}

  async start(): Promise<void> {
    const o = this.options;
    const common = { limits: o.limits, connections: o.connections, edgeName: this.proxy.name, metrics: o.metrics, onUpgrade: this.proxy.onUpgrade };
    if (o.https) {
      if (!o.contexts) throw new Error('--https needs a certificate (--cert and --key, or --tls-cert and --tls-key)');
      this.httpsServer = createHttpsListener({ ...common, contexts: o.contexts, clientAuth: o.clientAuth, requestClientCert: o.requestClientCert, onRequest: this.proxy.onHttpsRequest, http1: o.http1Engine });
      await listen(this.httpsServer, o.https, '--https');
    }
    if (o.http) {
      const redirect = o.redirectHttp && this.httpsServer !== undefined;
      // The redirect is answered by a node:http 'request' listener.
      this.httpServer = createHttpListener({ ...common, onRequest: this.proxy.onHttpRequest, h2c: !redirect, http1: redirect ? 'node' : o.http1Engine });
      if (o.redirectHttp && this.httpsServer) {
        this.httpServer.removeAllListeners('request');
        this.httpServer.on('request', redirectToHttps(this.address('https')!.port, this.proxy.name));
        this.httpServer.removeAllListeners('upgrade');
        this.httpServer.on('upgrade', redirectUpgradeToHttps(this.address('https')!.port, this.proxy.name));
      }
      await listen(this.httpServer, o.http, '--http');
    }
    const mesh = { ...common, onUpgrade: refuseMeshUpgrade };
    if (o.meshHttp) {
      this.meshPlainServer = createHttpListener({ ...mesh, onRequest: this.proxy.onMeshHttpRequest, h2c: true, http1: o.http1Engine });
      await listen(this.meshPlainServer, o.meshHttp, '--mesh-http');
    }
    if (o.meshHttps) {
      if (!o.meshContexts) throw new Error('--mesh-https needs the mesh leaf (controlled mode)');
      this.meshHttpsServer = createHttpsListener({ ...mesh, contexts: o.meshContexts, requestClientCert: true, onRequest: this.proxy.onMeshHttpsRequest, http1: o.http1Engine });
      await listen(this.meshHttpsServer, o.meshHttps, '--mesh-https');
    }
  }

  // The mesh listener's plain HTTP server, which other ports hand connections to.
  meshHttpServer(): http.Server | undefined {
    return this.meshPlainServer;
  }

  address(which: Which): AddressInfo | undefined {
    const server = { http: this.httpServer, https: this.httpsServer, 'mesh-http': this.meshPlainServer, 'mesh-https': this.meshHttpsServer }[which];
    const a = server?.address();
    return a !== null && typeof a === 'object' ? a : undefined;
  }

  // Stops accepting connections; the ones open are left to the drain (a
  // server's close callback runs only once they are all gone: not awaited).
  stopAccepting(): void {
    for (const s of [this.httpServer, this.httpsServer, this.meshPlainServer, this.meshHttpsServer]) {
      if (s !== undefined && s.listening) s.close(() => undefined);
    }
  }
}

function listen(server: http.Server | http2.Http2SecureServer, at: HostPort, flag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(new Error(`${flag} ${at.host}:${at.port}: cannot listen: ${err.code ?? err.message}`));
    server.once('error', onError);
    server.listen(at.port, at.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

// Protocol upgrades (WebSocket) are not carried for workloads yet: a clear
// answer rather than a request routed as if it came from the internet.
function refuseMeshUpgrade(_req: http.IncomingMessage, socket: Duplex): void {
  const body = 'protocol upgrades (WebSocket) are not served on the mesh listener\n';
  socket.end(`HTTP/1.1 501 Not Implemented\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
