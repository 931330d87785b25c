// The regions view the zone holds: a full view (every new stream) changes
// only what differs from what is held, so a reconnect does not resend every
// region whole to the proxies.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GlobalState, type RegionChanges } from './global-state';
import type { RegionStatus__Output } from '../../proto/generated/meridian/federation/v1/RegionStatus';

function status(name: string, services: [string, number][]): RegionStatus__Output {
  return {
    region: name,
    online: true,
    lastHeartbeatAtMs: Date.now(),
    ingressAddress: `10.0.0.1:7600`,
    dnsAddress: '',
    tunnel: null,
    services: services.map(([service, healthy]) => ({ service, healthy, total: 2, load: 0 })),
    peers: [],
    edges: [],
    servicesPartial: false,
    removedServices: [],
  };
}

function lastChange(state: GlobalState, apply: () => void): { names: string[]; changes: RegionChanges } {
  let out: { names: string[]; changes: RegionChanges } | undefined;
  state.once('regions', (names, changes) => (out = { names, changes }));
  apply();
  return out!;
}

const many = (healthy: number, n = 10): [string, number][] => Array.from({ length: n }, (_, i) => [`s${i}`, healthy]);

describe('GlobalState regions', () => {
  it('a full view of held regions changes only the services that differ', () => {
    const state = new GlobalState(undefined);
    state.applyRegions(true, [status('iad', many(2)), status('sin', many(2))], []);
    const sinLater = many(2);
    sinLater[3] = ['s3', 1];
    const { names, changes } = lastChange(state, () => state.applyRegions(true, [status('iad', many(2)), status('sin', sinLater)], []));
    assert.deepEqual(names.sort(), ['iad', 'sin']);
    assert.deepEqual([...(changes.get('iad') as Set<string>)], []);
    assert.deepEqual([...(changes.get('sin') as Set<string>)], ['s3']);
    assert.equal(state.regionService('sin', 's3')?.healthy, 1);
  });

  it('a full view that drops a region or some of its services, or changes most, marks them whole', () => {
    const state = new GlobalState(undefined);
    state.applyRegions(true, [status('iad', many(2)), status('sin', many(2)), status('lis', many(2))], []);
    const { names, changes } = lastChange(state, () => state.applyRegions(true, [status('iad', many(2, 9)), status('sin', many(0))], []));
    assert.deepEqual(names.sort(), ['iad', 'lis', 'sin']);
    assert.equal(changes.get('iad'), 'all', 'a service gone');
    assert.equal(changes.get('sin'), 'all', 'most services changed');
    assert.equal(changes.get('lis'), 'all', 'the region gone');
    assert.equal(state.regions.has('lis'), false);
    assert.equal(state.regionService('iad', 's9'), undefined);
    assert.equal(state.regionService('sin', 's0')?.healthy, 0);
  });
});

describe('GlobalState persistence', () => {
  it('keeps a snapshot as received for proxies, and persists it without that text', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-global-state-'));
    try {
      const file = path.join(dir, 'global-state.json');
      const document = { apiVersion: 'meridian.dev/v1', kind: 'Region', metadata: { name: 'fra' }, spec: { location: { latitude: 50.11, longitude: 8.68 } } } as never;
      const text = Buffer.from('{"apiVersion":"meridian.dev/v1", "kind":"Region"}');
      const state = new GlobalState(file);
      state.replaceAll(3, [{ kind: 'Region', name: 'fra', document, modRevision: 2, text }]);
      assert.equal(state.resources.get('Region/fra')!.text, text);
      // A snapshot is written a few seconds later, or at once on flush (stop).
      assert.equal(fs.existsSync(file), false);
      await state.flush();
      const onDisk = fs.readFileSync(file, 'utf8');
      assert.doesNotMatch(onDisk, /"text"/);
      const again = new GlobalState(file);
      assert.deepEqual(again.load(), { loaded: true });
      assert.deepEqual(again.resources.get('Region/fra'), { kind: 'Region', name: 'fra', document, modRevision: 2 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('GlobalState Certificate keys', () => {
  const certificate = (name: string) => ({
    kind: 'Certificate',
    name,
    modRevision: 7,
    document: {
      apiVersion: 'meridian.dev/v1',
      kind: 'Certificate',
      metadata: { name },
      spec: { hosts: ['api.example.com'], certificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', privateKey: '-----BEGIN PRIVATE KEY-----\nSECRETBODY\n-----END PRIVATE KEY-----\n' },
    } as never,
  });
  const service = { kind: 'Service', name: 'echo', modRevision: 6, document: { apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'echo' }, spec: {} } as never };

  it('never writes a private key; a restart holds the Certificate keyless and announces version 0 until a snapshot brings the key', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'global-state-')), 'global-state.json');
    const state = new GlobalState(file);
    state.replaceAll(7, [certificate('api'), service]);
    assert.equal(state.announcedVersion, 7, 'a zone that holds every key announces what it holds');
    await state.flush();
    const text = fs.readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /PRIVATE KEY|SECRETBODY/);
    assert.match(text, /BEGIN CERTIFICATE/, 'the certificate itself is kept');
    assert.match((state.get('Certificate', 'api')!.spec as { privateKey: string }).privateKey, /SECRETBODY/, 'in memory the key stays');

    const restarted = new GlobalState(file);
    assert.equal(restarted.load().loaded, true);
    assert.equal(restarted.version, 7);
    assert.equal(restarted.announcedVersion, 0, 'asks for a whole snapshot');
    restarted.replaceAll(8, [certificate('api'), service]);
    assert.equal(restarted.announcedVersion, 8);
  });

  it('drops the keys of a state file written by an older version, and writes it again without them', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'global-state-')), 'global-state.json');
    const payload = JSON.stringify({ version: 5, resources: [certificate('api')], regions: [] });
    const { createHash } = await import('node:crypto');
    fs.writeFileSync(file, `{"format":2,"sha256":"${createHash('sha256').update(payload).digest('hex')}","payload":${payload}}\n`);
    const state = new GlobalState(file);
    assert.equal(state.load().loaded, true);
    assert.equal(state.announcedVersion, 0);
    await state.flush();
    assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /PRIVATE KEY|SECRETBODY/);
  });
});
