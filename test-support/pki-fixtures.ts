// Builds small meshes for the PKI tests: a root, zone CAs, leaves.
import assert from 'node:assert/strict';
import { createRootCa, issueIntermediate, issueLeaf, type RootCa } from '../lib/pki/certificate-authority';
import { createCsr } from '../lib/pki/csr';
import { PkiError, type PkiErrorCode } from '../lib/pki/errors';
import { formatIdentity, type Role } from '../lib/pki/identity';
import { generateKeyPair } from '../lib/pki/keys';

export const TD = 'meridian.local';
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export interface Zone {
  region: string;
  certPem: string;
  keyPem: string;
  root: RootCa;
}

export interface Leaf {
  identity: string;
  certPem: string;
  keyPem: string;
  // leaf + zone CA, as a TLS `cert` option wants it
  chainPem: string;
  notBefore: Date;
  notAfter: Date;
  serial: string;
}

export function makeRoot(now?: Date, trustDomain = TD): RootCa {
  return createRootCa({ trustDomain, validityDays: 365, now });
}

export function makeZone(root: RootCa, region: string, options: { now?: Date; validityHours?: number; trustDomain?: string } = {}): Zone {
  const trustDomain = options.trustDomain ?? TD;
  const key = generateKeyPair();
  const csrPem = createCsr({ keyPem: key.privateKeyPem, identity: formatIdentity({ trustDomain, region, role: 'zone', name: `zc-${region}` }) });
  const issued = issueIntermediate({
    caCertPem: root.certPem,
    caKeyPem: root.keyPem,
    csrPem,
    region,
    trustDomain,
    validityHours: options.validityHours ?? 72,
    now: options.now,
  });
  return { region, certPem: issued.certPem, keyPem: key.privateKeyPem, root };
}

export function makeLeaf(
  zone: Zone,
  options: { role?: Role; name?: string; dnsNames?: string[]; lifetimeMs?: number; now?: Date; trustDomain?: string } = {},
): Leaf {
  const identity = formatIdentity({ trustDomain: options.trustDomain ?? TD, region: zone.region, role: options.role ?? 'edge', name: options.name ?? 'e-1' });
  const key = generateKeyPair();
  const issued = issueLeaf({
    caCertPem: zone.certPem,
    caKeyPem: zone.keyPem,
    csrPem: createCsr({ keyPem: key.privateKeyPem, identity, dnsNames: options.dnsNames }),
    allowedRegion: zone.region,
    trustDomain: options.trustDomain ?? TD,
    lifetimeMs: options.lifetimeMs ?? HOUR_MS,
    now: options.now,
  });
  return { ...issued, keyPem: key.privateKeyPem, chainPem: issued.certPem + zone.certPem };
}

// Asserts a PkiError with this code whose message matches.
export function assertPkiError(fn: () => unknown, code: PkiErrorCode, message: RegExp | string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PkiError, `expected a PkiError, got ${String(err)}`);
    assert.equal(err.code, code, `code of: ${err.message}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}
