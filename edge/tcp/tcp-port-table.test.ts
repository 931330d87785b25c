import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { viewOf } from '../testing/gateway-harness';
import { serviceDoc } from '../testing/upstream-server';
import { tcpPortTable } from './tcp-port-table';

const services = (...docs: Record<string, unknown>[]) => [...viewOf(docs).services.values()];

describe('tcpPortTable', () => {
  it('lists the tcp ports only, each with its Service and port name', () => {
    const t = tcpPortTable(
      services(
        serviceDoc('db', { ports: [{ name: 'http', port: 8080 }, { name: 'sql', port: 5432, protocol: 'tcp' }, { name: 'repl', port: 5433, protocol: 'tcp' }] }),
        serviceDoc('web', { ports: [{ name: 'http', port: 80 }] }),
        serviceDoc('rpc', { ports: [{ name: 'grpc', port: 9000, protocol: 'grpc' }] }),
      ),
      new Map(),
    );
    assert.deepEqual([...t.ports.entries()], [
      [5432, { service: 'db', portName: 'sql', port: 5432 }],
      [5433, { service: 'db', portName: 'repl', port: 5433 }],
    ]);
    assert.deepEqual(t.clashes, []);
  });

  it('gives a contested number to the Service first by name, whatever the order of the view, and says who lost', () => {
    const docs = [serviceDoc('zeta', { ports: [{ name: 'z', port: 6379, protocol: 'tcp' }] }), serviceDoc('alpha', { ports: [{ name: 'a', port: 6379, protocol: 'tcp' }] })];
    for (const order of [docs, [...docs].reverse()]) {
      const t = tcpPortTable(services(...order), new Map());
      assert.deepEqual(t.ports.get(6379), { service: 'alpha', portName: 'a', port: 6379 });
      assert.deepEqual(t.clashes, ["Service zeta port 'z' (tcp 6379) clashes with Service alpha port 'a' (tcp 6379); Service alpha keeps the port"]);
    }
  });

  it("never takes a port this proxy listens on itself", () => {
    const t = tcpPortTable(services(serviceDoc('db', { ports: [{ name: 'sql', port: 443, protocol: 'tcp' }] })), new Map([[443, "this proxy's --https listener (port 443)"]]));
    assert.equal(t.ports.size, 0);
    assert.deepEqual(t.clashes, ["Service db port 'sql' (tcp 443) clashes with this proxy's --https listener (port 443); no TCP listener for it"]);
  });

  it('on the public host, only the ports marked public', () => {
    const docs = services(
      serviceDoc('cache', { ports: [{ name: 'redis', port: 6379, protocol: 'tcp' }] }),
      serviceDoc('game', { ports: [{ name: 'play', port: 7777, protocol: 'tcp', public: true }] }),
    );
    assert.deepEqual([...tcpPortTable(docs, new Map()).ports.keys()], [6379, 7777], 'the mesh host serves both');
    assert.deepEqual([...tcpPortTable(docs, new Map(), true).ports.keys()], [7777], 'the internet gets the public one only');
  });
});
