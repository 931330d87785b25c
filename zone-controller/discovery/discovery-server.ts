// meridian.discovery.v1 for the region's edges and ingresses: the full view
// on connect, then every update the DiscoveryView broadcasts, in the form the
// proxy asked for (partial remote regions or whole), each split into parts
// small enough for a gRPC client's default message limit, marked `more`
// until the last (lib/grpc/view-parts.ts). While a proxy has
// not taken the last message (its write has not completed: it reads slower
// than updates come), further updates are folded into one: it is never more
// than a message or two behind, and the zone holds at most one pending
// message for it, whatever the churn.
import * as grpc from '@grpc/grpc-js';
import { discoveryProto } from '../../lib/grpc/protos';
import type { Logger } from '../../lib/observability/logger';
import type { View } from '../../proto/generated/meridian/discovery/v1/View';
import type { WatchRequest__Output } from '../../proto/generated/meridian/discovery/v1/WatchRequest';
import type { DiscoveryView } from './discovery-view';
import type { ProxyReport__Output } from '../../proto/generated/meridian/discovery/v1/ProxyReport';
import type { ReportAck } from '../../proto/generated/meridian/discovery/v1/ReportAck';
import type { ProxyReports } from './proxy-reports';
import { encodedViewParts, withEncodedWatch } from './encoded-view';
import { mergeViews } from './view-merge';
import type { CertificateRequest__Output } from '../../proto/generated/meridian/discovery/v1/CertificateRequest';
import type { IssuedCertificate } from '../../proto/generated/meridian/discovery/v1/IssuedCertificate';
import type { IdentityRequest__Output } from '../../proto/generated/meridian/discovery/v1/IdentityRequest';
import type { IdentityDescription } from '../../proto/generated/meridian/discovery/v1/IdentityDescription';
import { parseCsr } from '../../lib/pki';
import { LeafRefusal, type LeafIssuer } from '../identity/leaf-issuer';
import type { ProxyAuth } from './proxy-auth';
import { STREAM_SERVER_KEEPALIVE } from '../../lib/grpc/stream-keepalive';

export interface ConnectedProxy {
  proxy: string;
  mode: string;
  connectedAtMs: number;
  partialRegions: boolean;
}

export class DiscoveryServer {
  private readonly server = new grpc.Server({
    ...STREAM_SERVER_KEEPALIVE,
  });
  readonly proxies = new Map<grpc.ServerWritableStream<WatchRequest__Output, View>, ConnectedProxy>();
  // With TLS (--proxy-token-file): who may call what (./proxy-auth.ts).
  auth: ProxyAuth | undefined;
  private readonly serializeView: (view: View) => Buffer;

  constructor(
    private readonly view: DiscoveryView,
    private readonly region: string,
    private readonly logger: Logger,
    private readonly reports: ProxyReports,
    // Signs proxies' leaf certificates (Discovery.IssueCertificate).
    private readonly leaves?: LeafIssuer,
  ) {
    const { service, serializeView } = withEncodedWatch(discoveryProto().meridian.discovery.v1.Discovery.service);
    this.serializeView = serializeView;
    this.server.addService(service, {
      Watch: (call: grpc.ServerWritableStream<WatchRequest__Output, View>) => this.watch(call),
      Report: (call: grpc.ServerUnaryCall<ProxyReport__Output, ReportAck>, callback: grpc.sendUnaryData<ReportAck>) => {
        const refused = this.auth?.ownName(call, call.request.proxy, call.request.mode);
        if (refused) return callback(refused);
        if (!call.request.proxy) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'proxy: a name is required' });
        const problem = this.reports.put(call.request);
        if (problem) return callback({ code: grpc.status.INVALID_ARGUMENT, details: problem });
        callback(null, {});
      },
      IssueCertificate: (call: grpc.ServerUnaryCall<CertificateRequest__Output, IssuedCertificate>, callback: grpc.sendUnaryData<IssuedCertificate>) => {
        const refused = this.auth?.issuance(call, () => csrIdentity(call.request.csr));
        if (refused) return callback(refused);
        this.issueCertificate(call.request, callback);
      },
      DescribeIdentity: (call: grpc.ServerUnaryCall<IdentityRequest__Output, IdentityDescription>, callback: grpc.sendUnaryData<IdentityDescription>) => {
        const refused = this.auth?.issuance(call);
        if (refused) return callback(refused);
        this.answerLeafCall(callback, () => this.leaves!.describe(call.request.proxy, call.request.mode));
      },
    });
  }

  private issueCertificate(req: CertificateRequest__Output, callback: grpc.sendUnaryData<IssuedCertificate>): void {
    this.answerLeafCall(callback, () => {
      const leaf = this.leaves!.issue(req.proxy, req.csr);
      return { certificateChain: leaf.chainPem, trustBundle: leaf.trustBundle, identity: leaf.identity, serial: leaf.serial, notAfterMs: leaf.notAfter.getTime() };
    });
  }

  // A refusal becomes its gRPC status with the reason as details.
  private answerLeafCall<T>(callback: grpc.sendUnaryData<T>, answer: () => T): void {
    try {
      if (!this.leaves) throw new LeafRefusal('no-ca', 'this discovery server issues no certificates');
      callback(null, answer());
    } catch (err) {
      if (!(err instanceof LeafRefusal)) {
        this.logger.error({ err: (err as Error).message }, 'cannot issue a leaf certificate');
        return callback({ code: grpc.status.INTERNAL, details: `cannot issue the certificate: ${(err as Error).message}` });
      }
      const code = { 'malformed-csr': grpc.status.INVALID_ARGUMENT, 'not-allowed': grpc.status.INVALID_ARGUMENT, 'no-ca': grpc.status.FAILED_PRECONDITION, 'not-ready': grpc.status.UNAVAILABLE }[err.kind];
      callback({ code, details: err.message });
    }
  }

  private watch(call: grpc.ServerWritableStream<WatchRequest__Output, View>): void {
    const req = call.request;
    const refused = this.auth?.ownName(call, req.proxy, req.mode);
    if (refused) {
      this.logger.warn({ proxy: req.proxy, reason: refused.details }, 'proxy refused');
      call.emit('error', refused);
      return;
    }
    if (req.region && req.region !== this.region) {
      call.emit('error', { code: grpc.status.FAILED_PRECONDITION, details: `this zone controller serves region '${this.region}', not '${req.region}'` });
      return;
    }
    let pending: View | undefined;
    let inFlight = 0;
    const written = () => {
      if (--inFlight > 0 || !pending) return;
      const next = pending;
      pending = undefined;
      write(next);
    };
    const write = (v: View) => {
      if (inFlight > 0) {
        pending = pending ? mergeViews(pending, v) : v;
        return;
      }
      for (const part of encodedViewParts(v, this.serializeView)) {
        inFlight++;
        // Bytes: the Watch serializer passes them through (./encoded-view.ts).
        call.write(part as unknown as View, written);
      }
    };
    const event = req.partialRegions ? 'update' : 'legacy-update';
    this.proxies.set(call, { proxy: req.proxy, mode: req.mode, connectedAtMs: Date.now(), partialRegions: req.partialRegions });
    write(this.view.full());
    this.view.on(event, write);
    this.logger.info({ proxy: req.proxy, mode: req.mode, partialRegions: req.partialRegions }, 'proxy connected');
    const done = () => {
      if (!this.proxies.delete(call)) return;
      this.view.off(event, write);
      this.logger.info({ proxy: req.proxy }, 'proxy disconnected');
    };
    call.on('cancelled', done);
    call.on('close', done);
    call.on('error', done);
  }

  listen(address: string, credentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, credentials, (err, port) => (err ? reject(new Error(`cannot listen for discovery on ${address}: ${err.message}`)) : resolve(port)));
    });
  }

  close(): Promise<void> {
    for (const call of this.proxies.keys()) call.end();
    return new Promise((resolve) => {
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

// The identity a CSR asks for; undefined when it cannot be read (the issuer refuses it).
function csrIdentity(csrPem: string): string | undefined {
  try {
    return parseCsr(csrPem).identity;
  } catch {
    return undefined;
  }
}
