// The mesh listener's refusal log: bounded, and per reason, so a flood of
// callers from outside the region's networks leaves the lines for the
// region's own refused callers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createRegistry } from '../../lib/observability/metrics';
import { viewOf } from '../testing/gateway-harness';
import { doc, serviceDoc } from '../testing/upstream-server';
import { MeshAuthorizer } from './mesh-authorizer';

describe('mesh authorizer: refusal log', () => {
  it('still logs a refused caller of the region after thousands of outside addresses were refused', () => {
    const lines: { reason: string; peer: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    const authorizer = new MeshAuthorizer('fra', 'meridian.local', [], createRegistry('edge', false), logger);
    const onlyAdmin = doc('TrafficPermission', 'echo-from-admin', { service: 'echo', allow: [{ identity: 'spiffe://meridian.local/region/*/service/admin' }] });
    authorizer.setView(viewOf([serviceDoc('echo'), doc('Region', 'fra', { location: { latitude: 50, longitude: 8 }, instanceNetworks: ['10.0.0.0/8'] }), onlyAdmin], 'fra'));
    for (let i = 0; i < 3000; i++) {
      const r = authorizer.authenticate({ socket: { remoteAddress: `2001:db8::${i.toString(16)}` } }, false);
      assert.equal((r as { status?: number }).status, 403);
    }
    const outside = lines.length;
    assert.ok(outside > 0 && outside <= 1024, `outside refusals logged, bounded: ${outside}`);
    const caller = authorizer.authenticate({ socket: { remoteAddress: '10.1.2.3' } }, false);
    assert.ok(!('status' in caller));
    assert.equal(authorizer.permit(caller, 'echo')?.status, 403);
    const last = lines.at(-1)!;
    assert.equal(last.peer, '10.1.2.3');
    assert.equal(last.reason, 'not-allowed');
  });
});
