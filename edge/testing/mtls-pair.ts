// An ingress and an edge that trust each other by self-signed certificates:
// the ingress's listener options (HTTPS only, the edge's certificate required)
// and the edge's mesh TLS files (its certificate, trusting the ingress's).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EdgeGatewayOptions } from '../gateway';
import type { MeshTlsFiles } from '../upstream/remote-ingress-pool';
import { selfSigned } from './certificates';

export interface MtlsPair {
  ingressOptions: Partial<EdgeGatewayOptions>;
  edgeMeshTls: MeshTlsFiles;
  // What a client must trust to reach the ingress.
  ingressCa: Buffer;
  remove(): void;
}

export function mtlsPair(): MtlsPair {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-mtls-'));
  const ingressCert = selfSigned('iad-ingress', ['127.0.0.1']);
  const edgeCert = selfSigned('fra-edge');
  const file = (name: string, data: Buffer) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, data);
    return f;
  };
  return {
    ingressOptions: {
      mode: 'ingress',
      http: undefined,
      https: { host: '127.0.0.1', port: 0 },
      certificates: [{ ...ingressCert, source: 'ingress' }],
      // The edge's certificate stands in for the mesh CA.
      clientAuth: { ca: edgeCert.cert, required: true },
    },
    edgeMeshTls: { cert: file('edge.crt', edgeCert.cert), key: file('edge.key', edgeCert.key), ca: file('ca.crt', ingressCert.cert) },
    ingressCa: ingressCert.cert,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
