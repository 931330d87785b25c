// Golden files for what a zone receives on the federation stream, as it
// crosses the wire (encoded and decoded with the Sync method's own
// serializers): testdata/golden/*.json next to this file.
//
// After an intended change to the wire, rewrite them and review the diff:
//   npx tsc -p tsconfig.json && UPDATE_GOLDEN=1 node --test dist/global-controller/federation/wire.golden.test.js
// (or `npm run golden:update` for every golden file).
import { describe, it } from 'node:test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dataKeyFromBytes, sealPrivateKey } from '../../lib/pki';
import { federationProto } from '../../lib/grpc/protos';
import type { GlobalMessage } from '../../proto/generated/meridian/federation/v1/GlobalMessage';
import { assertGolden, goldenDir, goldenText } from '../../test-support/golden';
import { CertificateKeys } from '../identity/certificate-keys';
import type { ChangeEvent, StoredDocument, StoredResource } from '../store/types';
import { instanceTokenPolicy } from './instance-token-feed';
import { deltasMessage, snapshotMessage, type RevealDocument } from './wire';

const golden = goldenDir(__dirname);
const testdata = path.dirname(golden);
// A test-only certificate and its key (EC P-256, valid for a century).
const certificatePem = fs.readFileSync(path.join(testdata, 'certificate.pem'), 'utf8');
const privateKeyPem = fs.readFileSync(path.join(testdata, 'private-key.pem'), 'utf8');

const dataKey = dataKeyFromBytes('golden-files-data-key-0123456789abcdef', 'golden test data key');
const certificateKeys = new CertificateKeys(dataKey);
const reveal: RevealDocument = (doc) => certificateKeys.open(doc);

const sync = federationProto().meridian.federation.v1.Federation.service.Sync;
// The message as a zone decodes it.
function onTheWire(message: GlobalMessage): string {
  return goldenText(sync.responseDeserialize(sync.responseSerialize(message)));
}

function doc(kind: string, name: string, modRevision: number, spec: unknown): StoredDocument {
  return { apiVersion: 'meridian.dev/v1', kind, metadata: { name, resourceVersion: String(modRevision) }, spec };
}

function stored(document: StoredDocument, modRevision: number): StoredResource {
  return { kind: document.kind, name: document.metadata.name, document, modRevision, createRevision: modRevision };
}

// As the store holds a Certificate: its key sealed for the record `sealedFor`
// (its own name, or another record's, whose seal does not open here).
function certificate(name: string, modRevision: number, sealedFor = name): StoredDocument {
  const sealedPrivateKey = sealPrivateKey(privateKeyPem, dataKey, { purpose: 'certificate-key', record: `Certificate/${sealedFor}` });
  return doc('Certificate', name, modRevision, { hosts: ['shop.example.com'], certificate: certificatePem, sealedPrivateKey });
}

const fra = doc('Region', 'fra', 3, { location: { latitude: 50.11, longitude: 8.68 } });
const echo = doc('Service', 'echo', 5, { hosts: ['echo.example.com'], ports: [{ name: 'http', port: 80, protocol: 'http' }] });
const canary = doc('TrafficRoute', 'echo-canary', 7, {
  service: 'echo',
  rules: [{ split: [{ service: 'echo-v2', weight: 10 }, { service: 'echo', weight: 90 }] }],
});

describe('federation wire (golden)', () => {
  it('a Snapshot: every resource, a Certificate with its key opened, one whose key does not open left out', () => {
    const resources = [stored(fra, 3), stored(echo, 5), stored(canary, 7), stored(certificate('shop', 9), 9), stored(certificate('broken', 10, 'shop'), 10)];
    assertGolden(golden, 'snapshot.json', onTheWire(snapshotMessage({ revision: 10, resources }, reveal)));
  });

  it('Deltas for puts: a changed resource, a Certificate with its key opened, one whose key does not open as a removal', () => {
    const changes: ChangeEvent[] = [
      { op: 'put', kind: 'Service', name: 'echo', document: doc('Service', 'echo', 11, { hosts: ['echo.example.com', 'echo.example.net'] }), modRevision: 11 },
      { op: 'put', kind: 'Certificate', name: 'shop', document: certificate('shop', 12), modRevision: 12 },
      { op: 'put', kind: 'Certificate', name: 'broken', document: certificate('broken', 13, 'shop'), modRevision: 13 },
    ];
    assertGolden(golden, 'deltas-put.json', onTheWire(deltasMessage(10, { revision: 13, changes }, reveal)));
  });

  it('Deltas for a delete', () => {
    const changes: ChangeEvent[] = [{ op: 'delete', kind: 'TrafficRoute', name: 'echo-canary', modRevision: 14 }];
    assertGolden(golden, 'deltas-delete.json', onTheWire(deltasMessage(13, { revision: 14, changes }, reveal)));
  });

  it('the InstanceTokenPolicy: the signing key and the revoked tokens not yet expired', () => {
    const publicKey = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAs3Q+6i2cIXJvrfSN7o13SsiiLVny+sAYoS+sO/nCJCw=\n-----END PUBLIC KEY-----\n';
    const now = Date.parse('2026-01-01T00:00:00Z');
    const revoked = new Map([
      ['it-expired', now / 1000 - 60],
      ['it-revoked', now / 1000 + 3600],
    ]);
    assertGolden(golden, 'instance-token-policy.json', onTheWire({ instanceTokens: instanceTokenPolicy(publicKey, revoked, now) }));
  });
});
