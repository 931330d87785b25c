// The upstream's response headers as they go to the client: hop-by-hop
// headers removed (HTTP/2 refuses them outright), x-meridian-region (the
// region that served: this one, or what the remote ingress said) and
// x-meridian-edge (this proxy) set. Works in place on undici's header object.
import type { IncomingHttpHeaders } from 'node:http';

export const REGION_HEADER = 'x-meridian-region';
export const EDGE_HEADER = 'x-meridian-edge';

export function prepareResponseHeaders(headers: IncomingHttpHeaders, region: string, keepRemoteRegion: boolean, edgeName: string, close: boolean): IncomingHttpHeaders {
  const connection = headers.connection;
  if (connection !== undefined) {
    delete headers.connection;
    // Headers the upstream listed in Connection are hop-by-hop too (the
    // usual values name none).
    if (connection !== 'keep-alive' && connection !== 'close') {
      for (const token of String(connection).toLowerCase().split(',')) {
        const name = token.trim();
        if (name !== '' && name !== 'close' && name !== 'keep-alive') delete headers[name];
      }
    }
  }
  if (headers['keep-alive'] !== undefined) delete headers['keep-alive'];
  if (headers['transfer-encoding'] !== undefined) delete headers['transfer-encoding'];
  if (headers['proxy-connection'] !== undefined) delete headers['proxy-connection'];
  if (headers.upgrade !== undefined) delete headers.upgrade;
  if (!keepRemoteRegion || headers[REGION_HEADER] === undefined) headers[REGION_HEADER] = region;
  headers[EDGE_HEADER] = edgeName;
  if (close) headers.connection = 'close';
  return headers;
}
