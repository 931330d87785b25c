// A self-signed server certificate for public hosts when nothing better is
// configured: the demo's edges, and a fresh node before its operator installs
// real certificates. Clients must be told to trust it explicitly.
import { createPrivateKey } from 'node:crypto';
import { generateKeyPairAsync } from './keys';
import { signCertificate } from './sign-certificate';

export interface SelfSignedOptions {
  commonName: string;
  dnsNames: string[];
  ipAddresses?: string[];
  validityDays?: number;
  now?: Date;
}

export async function createSelfSignedCertificate(o: SelfSignedOptions): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateKeyPairAsync();
  const now = o.now ?? new Date();
  const altNames = [...o.dnsNames.map((value) => ({ type: 2, value })), ...(o.ipAddresses ?? []).map((ip) => ({ type: 7, ip }))];
  const signed = signCertificate({
    publicKeyPem: keys.publicKeyPem,
    subject: [{ name: 'commonName', value: o.commonName }],
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
    now,
    notAfter: new Date(now.getTime() + (o.validityDays ?? 90) * 86_400_000),
    signingKey: createPrivateKey(keys.privateKeyPem),
  });
  return { certPem: signed.certPem, keyPem: keys.privateKeyPem };
}
