// A self-signed certificate for the edge's HTTPS listener, so the edge starts
// before the operator has put real certificates in place (it refuses --https
// without one). Browsers will not trust it: it is the default only until a
// NAME.crt and NAME.key for a real host name sit next to it.
import { createPrivateKey, createPublicKey } from 'node:crypto';

import { generateKeyPair } from '../../lib/pki/keys';
import { signCertificate } from '../../lib/pki/sign-certificate';

const VALIDITY_MS = 365 * 24 * 3600 * 1000;
const SAN_DNS = 2;
const SAN_IP = 7;

export function placeholderKey(): string {
  return generateKeyPair().privateKeyPem;
}

export function placeholderCertificate(keyPem: string, nodeName: string, publicAddress: string | undefined, now = new Date()): string {
  const signingKey = createPrivateKey(keyPem);
  const publicKeyPem = createPublicKey(signingKey).export({ type: 'spki', format: 'pem' }).toString();
  const altNames: object[] = [{ type: SAN_DNS, value: `${nodeName}.meridian.invalid` }];
  if (publicAddress && /^\d+\.\d+\.\d+\.\d+$/.test(publicAddress)) altNames.push({ type: SAN_IP, ip: publicAddress });
  return signCertificate({
    publicKeyPem,
    subject: [
      { shortName: 'CN', value: `${nodeName}.meridian.invalid` },
      { shortName: 'O', value: 'Meridian placeholder (replace with your certificates)' },
    ],
    extensions: [
      { name: 'basicConstraints', critical: true, cA: false },
      { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
    now,
    notAfter: new Date(now.getTime() + VALIDITY_MS),
    signingKey,
  }).certPem;
}
