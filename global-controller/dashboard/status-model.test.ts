import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredResource } from '../store/resource-store';
import type { ZoneStatus } from '../zones/zone-status';
import { meshStatus } from './status-model';

const NOW = Date.parse('2026-11-22T10:00:00.000Z');

function zone(region: string, fields: Partial<ZoneStatus> = {}): ZoneStatus {
  return {
    region,
    zoneId: `${region}-zone`,
    replica: 'gc-1',
    online: true,
    lastHeartbeatMs: NOW - 1000,
    heartbeatIntervalMs: 1000,
    connectedAtMs: NOW - 60_000,
    ackedVersion: 41,
    lastNack: null,
    ingressAddress: '127.0.0.1:7600',
    dnsAddress: '',
    httpAddress: '',
    tunnel: null,
    services: [],
    peers: [],
    edges: [],
    ...fields,
  };
}

function region(name: string, latitude: number, longitude: number): StoredResource {
  return {
    kind: 'Region',
    name,
    document: { apiVersion: 'meridian.dev/v1', kind: 'Region', metadata: { name }, spec: { location: { latitude, longitude } } },
    modRevision: 1,
    createRevision: 1,
  };
}

describe('meshStatus', () => {
  it('merges zones and Region resources into one picture, sorted by name', () => {
    const status = meshStatus(
      {
        zones: [
          zone('iad', {
            services: [{ service: 'echo', healthy: 1, total: 2, load: 0 }],
            edges: [{ name: 'iad-edge', announcing: false, healthy: false }],
            traffic: { requestRate: 12.5, errorRate: 0.01, p99Ms: 35 },
          }),
          zone('fra', {
            services: [
              { service: 'api', healthy: 0, total: 1, load: 0 },
              { service: 'echo', healthy: 2, total: 2, load: 3 },
            ],
            edges: [{ name: 'fra-edge', announcing: true, healthy: true }],
            peers: [
              { region: 'iad', lastHandshakeAtMs: NOW - 8000, up: true, rttMs: 80 },
              { region: 'sin', lastHandshakeAtMs: 0, up: false, rttMs: 0 },
            ],
          }),
        ],
        regionResources: [region('fra', 50.11, 8.68), region('iad', 38.95, -77.45), region('sin', 1.35, 103.99)],
        serviceNames: ['echo', 'unused'],
      },
      NOW,
    );
    assert.deepEqual(status, {
      generatedAt: '2026-11-22T10:00:00.000Z',
      regions: [
        {
          name: 'fra', latitude: 50.11, longitude: 8.68, online: true, lastHeartbeat: '2026-11-22T09:59:59.000Z', ackedVersion: 41,
          services: [{ service: 'api', healthy: 0, total: 1 }, { service: 'echo', healthy: 2, total: 2 }],
          edges: [{ name: 'fra-edge', announcing: true, healthy: true }],
          traffic: null,
        },
        {
          name: 'iad', latitude: 38.95, longitude: -77.45, online: true, lastHeartbeat: '2026-11-22T09:59:59.000Z', ackedVersion: 41,
          services: [{ service: 'echo', healthy: 1, total: 2 }],
          edges: [{ name: 'iad-edge', announcing: false, healthy: false }],
          traffic: { requestRate: 12.5, errorRate: 0.01, p99Ms: 35 },
        },
        // A Region resource without a zone yet.
        { name: 'sin', latitude: 1.35, longitude: 103.99, online: false, lastHeartbeat: null, ackedVersion: 0, services: [], edges: [], traffic: null },
      ],
      tunnels: [
        { from: 'fra', to: 'iad', up: true, handshakeAgeMs: 8000, rttMs: 80 },
        { from: 'fra', to: 'sin', up: false, handshakeAgeMs: null, rttMs: 0 },
      ],
      services: [
        { service: 'api', regions: { fra: { healthy: 0, total: 1 } } },
        { service: 'echo', regions: { fra: { healthy: 2, total: 2 }, iad: { healthy: 1, total: 2 } } },
        { service: 'unused', regions: {} },
      ],
    });
  });

  it('ages heartbeats: a zone silent for three intervals is offline, and so are the tunnels it reported', () => {
    const silent = zone('fra', {
      lastHeartbeatMs: NOW - 3500,
      peers: [{ region: 'iad', lastHandshakeAtMs: NOW - 4000, up: true, rttMs: 80 }],
      services: [{ service: 'echo', healthy: 2, total: 2, load: 0 }],
    });
    const status = meshStatus({ zones: [silent], regionResources: [], serviceNames: [] }, NOW);
    assert.equal(status.regions[0]!.online, false);
    assert.deepEqual(status.tunnels, [{ from: 'fra', to: 'iad', up: false, handshakeAgeMs: 4000, rttMs: 80 }]);
    // The last report is kept, for the operator to see what was there.
    assert.deepEqual(status.services, [{ service: 'echo', regions: { fra: { healthy: 2, total: 2 } } }]);
  });

  it('lists the edges, not the ingresses, and takes traffic as the zone summed it', () => {
    const status = meshStatus(
      {
        zones: [
          zone('fra', {
            edges: [
              { name: 'fra-edge', mode: 'edge', announcing: true, healthy: true, requestRate: 10, errorRate: 0, p99Ms: 20 },
              { name: 'fra-ingress', mode: 'ingress', announcing: false, healthy: true, requestRate: 3, errorRate: 0, p99Ms: 5 },
            ],
            traffic: { requestRate: 10, errorRate: 0, p99Ms: 20 },
          }),
        ],
        regionResources: [],
        serviceNames: [],
      },
      NOW,
    );
    assert.deepEqual(status.regions[0]!.edges, [{ name: 'fra-edge', announcing: true, healthy: true }]);
    assert.deepEqual(status.regions[0]!.traffic, { requestRate: 10, errorRate: 0, p99Ms: 20 });
  });

  it('shows zones without a location when the Region resources are unknown', () => {
    const status = meshStatus({ zones: [zone('fra')], regionResources: [], serviceNames: [] }, NOW);
    assert.equal(status.regions[0]!.latitude, null);
    assert.equal(status.regions[0]!.longitude, null);
    assert.equal(status.regions[0]!.online, true);
  });
});
