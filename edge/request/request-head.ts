// One pass over the request's raw headers: the headers to pass upstream (a
// flat [name, value, ...] list as undici takes it) and the few facts the
// pipeline needs (host, forwarding headers, hop count, body framing). Hop-by-
// hop headers, HTTP/2 pseudo-headers and the ones the gateway rewrites are
// left out here and added back by forwarded-headers.ts.
export const HOP_HEADER = 'x-meridian-hop';
export const SERVICE_HEADER = 'x-meridian-service';
// Set by an edge on a request it sends through a relay region's ingress: the
// region the relay must forward it to (edge/relay/).
export const TARGET_REGION_HEADER = 'x-meridian-target-region';
// Set by a mesh listener on what it sends to another region's ingress: the
// identity of the workload that called (or its network identity), which an
// ingress believes from a verified proxy only (edge/identity/ingress-authorizer.ts).
export const SOURCE_IDENTITY_HEADER = 'x-meridian-source-identity';
// The named port of the Service a request to an ingress is for; absent: the first.
export const PORT_HEADER = 'x-meridian-port';

export class RequestHead {
  // Host header (HTTP/1) or :authority (HTTP/2), as sent.
  host = '';
  hostCount = 0;
  forwardedFor: string | undefined = undefined;
  forwardedProto: string | undefined = undefined;
  forwardedHost: string | undefined = undefined;
  // RFC 7239 Forwarded, all of them joined.
  forwarded: string | undefined = undefined;
  // Who the request is from, for the access log: the peer, or behind a
  // trusted proxy the client it names (router/forwarded-headers.ts).
  clientAddress: string | undefined = undefined;
  requestId: string | undefined = undefined;
  hops = 0;
  meshService: string | undefined = undefined;
  targetRegion: string | undefined = undefined;
  sourceIdentity: string | undefined = undefined;
  meshPort: string | undefined = undefined;
  // W3C trace context; each hop sends its own (edge/observability/hop-trace.ts).
  traceparent: string | undefined = undefined;
  // -1 when absent.
  contentLength = -1;
  contentLengthRaw: string | undefined = undefined;
  conflictingContentLength = false;
  transferEncoding = false;
  idempotencyKey = false;
  // TE: trailers (gRPC clients send it; HTTP/2 upstreams get it back).
  teTrailers = false;
  // Headers to pass on, flat.
  readonly headers: string[] = [];

  constructor(raw: readonly string[]) {
    let connection: string | undefined;
    const out = this.headers;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      const value = raw[i + 1];
      if (name.charCodeAt(0) === 58 /* : */) {
        if (name === ':authority') {
          this.host = value;
          this.hostCount++;
        }
        continue;
      }
      const lower = name.toLowerCase();
      switch (lower) {
        case 'host':
          if (this.hostCount === 0 || this.host !== value) this.hostCount++;
          this.host = value;
          break;
        case 'content-length':
          if (this.contentLengthRaw !== undefined && this.contentLengthRaw !== value) this.conflictingContentLength = true;
          this.contentLengthRaw = value;
          this.contentLength = Number(value);
          break;
        case 'transfer-encoding':
          this.transferEncoding = true;
          break;
        case 'connection':
          connection = connection === undefined ? value : `${connection}, ${value}`;
          break;
        case 'te':
          if (value.toLowerCase().includes('trailers')) this.teTrailers = true;
          break;
        case 'keep-alive':
        case 'proxy-connection':
        case 'upgrade':
        case 'http2-settings':
        case 'expect':
        case 'trailer':
          break;
        case 'x-forwarded-for':
          this.forwardedFor = this.forwardedFor === undefined ? value : `${this.forwardedFor}, ${value}`;
          break;
        case 'x-forwarded-proto':
          this.forwardedProto = value;
          break;
        case 'x-forwarded-host':
          this.forwardedHost = value;
          break;
        case 'forwarded':
          this.forwarded = this.forwarded === undefined ? value : `${this.forwarded}, ${value}`;
          break;
        case 'x-request-id':
          this.requestId = value;
          break;
        case HOP_HEADER: {
          const n = Number(value);
          this.hops = Number.isInteger(n) && n > 0 ? n : 0;
          break;
        }
        case SERVICE_HEADER:
          this.meshService = value;
          break;
        case TARGET_REGION_HEADER:
          this.targetRegion = value;
          break;
        case SOURCE_IDENTITY_HEADER:
          this.sourceIdentity = value;
          break;
        case PORT_HEADER:
          this.meshPort = value;
          break;
        case 'traceparent':
          this.traceparent = value;
          break;
        case 'idempotency-key':
          this.idempotencyKey = true;
          out.push(name, value);
          break;
        default:
          out.push(name, value);
      }
    }
    if (connection !== undefined) this.dropConnectionTokens(connection);
  }

  // Connection: close, x-foo names x-foo as hop-by-hop too.
  private dropConnectionTokens(connection: string): void {
    const tokens = connection
      .toLowerCase()
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '' && t !== 'close' && t !== 'keep-alive');
    if (tokens.length === 0) return;
    const out = this.headers;
    for (let i = out.length - 2; i >= 0; i -= 2) {
      if (tokens.includes(out[i].toLowerCase())) out.splice(i, 2);
    }
  }
}
