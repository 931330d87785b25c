// A zone CA key and its CSR, as a joining zone controller makes them: a zone
// joining on a join token sends the CSR in Hello and gets its zone CA in
// Welcome. The key is the zone's identity (one live session per region).
import { createCsr, formatIdentity, generateKeyPairAsync } from '../../lib/pki';

export interface TestZoneCaKey {
  keyPem: string;
  csr: string;
}

export async function testZoneCaKey(region: string, trustDomain = 'meridian.local'): Promise<TestZoneCaKey> {
  const { privateKeyPem } = await generateKeyPairAsync();
  return { keyPem: privateKeyPem, csr: createCsr({ keyPem: privateKeyPem, identity: formatIdentity({ trustDomain, region, role: 'zone', name: region }) }) };
}
