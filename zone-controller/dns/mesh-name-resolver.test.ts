// <service>.mesh resolves to the mesh listeners the region's edges report.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { silentLogger, type Logger } from '../../lib/observability/logger';
import type { ProxyReport__Output } from '../../proto/generated/meridian/discovery/v1/ProxyReport';
import { FORGET_AFTER_MS, ProxyReports } from '../discovery/proxy-reports';
import { MeshNameResolver, NO_LISTENER_WARN_INTERVAL_MS } from './mesh-name-resolver';

function report(proxy: string, meshAddresses: string[], extra: Partial<ProxyReport__Output> = {}): ProxyReport__Output {
  return { proxy, mode: 'edge', healthy: true, announcing: false, requestRate: 0, errorRate: 0, p99Ms: 0, inFlight: {}, meshAddresses, ...extra };
}

// A logger that keeps its warnings.
function recordingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger = silentLogger();
  logger.warn = ((_fields: unknown, message: string) => void warnings.push(message)) as Logger['warn'];
  return { logger, warnings };
}

function setup(healthy: Record<string, boolean> = { echo: true, idle: false }) {
  const reports = new ProxyReports();
  const { logger, warnings } = recordingLogger();
  const resolver = new MeshNameResolver(
    { serviceExists: (s) => s in healthy, healthyAnywhere: (s) => healthy[s] === true, meshAddresses: () => reports.meshAddresses() },
    logger,
  );
  return { reports, resolver, warnings };
}

describe('mesh names', () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date', 'setInterval'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it('an unknown service, and one with no healthy instance anywhere, do not exist', () => {
    const { reports, resolver } = setup();
    reports.put(report('edge-a', ['10.1.0.5']));
    assert.equal(resolver.resolve('nope'), undefined);
    assert.equal(resolver.resolve('idle'), undefined);
  });

  it('answers every healthy edge\'s mesh addresses, split by family, each once', () => {
    const { reports, resolver } = setup();
    reports.put(report('edge-a', ['10.1.0.5', 'fd00::5']));
    reports.put(report('edge-b', ['10.1.0.6', '10.1.0.5', 'FD00:0:0::5']));
    // Not a mesh listener a workload may use: an unhealthy edge, an ingress.
    reports.put(report('edge-c', ['10.1.0.7'], { healthy: false }));
    reports.put(report('ingress-a', ['10.1.0.8'], { mode: 'ingress' }));
    assert.deepEqual(resolver.resolve('echo'), { v4: ['10.1.0.5', '10.1.0.6'], v6: ['fd00::5'] });
  });

  it('forgets an edge whose report is stale, and takes it back when it reports again', () => {
    const { reports, resolver } = setup();
    reports.put(report('edge-a', ['10.1.0.5']));
    mock.timers.tick(FORGET_AFTER_MS - 1000);
    reports.put(report('edge-b', ['10.1.0.6']));
    assert.deepEqual(resolver.resolve('echo')?.v4, ['10.1.0.5', '10.1.0.6']);
    mock.timers.tick(1001);
    assert.deepEqual(resolver.resolve('echo')?.v4, ['10.1.0.6'], 'edge-a has not reported for longer than the freshness rule');
    reports.put(report('edge-a', ['10.1.0.5']));
    assert.deepEqual(resolver.resolve('echo')?.v4, ['10.1.0.5', '10.1.0.6']);
  });

  it('a draining edge (it reports no addresses) drops out at its next report', () => {
    const { reports, resolver } = setup();
    reports.put(report('edge-a', ['10.1.0.5']));
    reports.put(report('edge-b', ['10.1.0.6']));
    reports.put(report('edge-a', [], { healthy: false }));
    assert.deepEqual(resolver.resolve('echo'), { v4: ['10.1.0.6'], v6: [] });
  });

  it('refuses a report with junk addresses or too many, naming them, and keeps the previous one', () => {
    const { reports, resolver } = setup();
    reports.put(report('edge-a', ['10.1.0.5']));
    const refusals: [string[], RegExp][] = [
      [['10.1.0.9', 'edge-a.example.com'], /^mesh_addresses\[1\]: must be an IPv4 or IPv6 address, got "edge-a\.example\.com"$/],
      [['10.1.0.300'], /^mesh_addresses\[0\]: must be an IPv4 or IPv6 address/],
      [['fe80::1%eth0'], /^mesh_addresses\[0\]: must be an IPv4 or IPv6 address/],
      [[''], /^mesh_addresses\[0\]: must be an IPv4 or IPv6 address/],
      [Array.from({ length: 17 }, (_, i) => `10.2.0.${i + 1}`), /^mesh_addresses: at most 16 addresses, got 17$/],
    ];
    for (const [addresses, message] of refusals) assert.match(reports.put(report('edge-a', addresses)) ?? '(taken)', message);
    assert.deepEqual(resolver.resolve('echo'), { v4: ['10.1.0.5'], v6: [] });
    assert.equal(reports.put(report('edge-a', Array.from({ length: 16 }, (_, i) => `10.2.0.${i + 1}`))), undefined, '16 are taken');
    assert.equal(resolver.resolve('echo')?.v4.length, 16);
  });

  it('no mesh listener: the name exists with no addresses, and that is logged once a minute', () => {
    const { reports, resolver, warnings } = setup();
    reports.put(report('ingress-a', [], { mode: 'ingress' }));
    assert.deepEqual(resolver.resolve('echo'), { v4: [], v6: [] });
    assert.deepEqual(resolver.resolve('echo'), { v4: [], v6: [] });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /no healthy edge of this region reports a mesh listener/);
    mock.timers.tick(NO_LISTENER_WARN_INTERVAL_MS);
    resolver.resolve('echo');
    assert.equal(warnings.length, 2);
  });
});
