import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { errorBody, FakeAdminServer } from '../testing/fake-admin-server';
import { runCli } from '../testing/run-cli';

const secondsAgo = (s: number) => new Date(Date.now() - s * 1000).toISOString();

const REGIONS = {
  apiVersion: 'meridian.dev/v1',
  kind: 'List',
  revision: 42,
  items: [
    {
      apiVersion: 'meridian.dev/v1',
      kind: 'Region',
      metadata: { name: 'fra', resourceVersion: 10 },
      spec: { location: { latitude: 50.11, longitude: 8.68 } },
      status: {
        online: true,
        lastHeartbeat: secondsAgo(3),
        ingressAddress: '127.0.0.1:7603',
        services: [
          { service: 'echo', healthy: 2, total: 2 },
          { service: 'api', healthy: 1, total: 2 },
        ],
      },
    },
    {
      apiVersion: 'meridian.dev/v1',
      kind: 'Region',
      metadata: { name: 'sin', resourceVersion: 11 },
      spec: { location: { latitude: 1.35, longitude: 103.82 } },
      status: { online: false },
    },
  ],
};

const ECHO = {
  apiVersion: 'meridian.dev/v1',
  kind: 'Service',
  metadata: { name: 'echo', resourceVersion: 12 },
  spec: {
    hosts: ['echo.example.com'],
    ports: [
      { name: 'http', port: 80, protocol: 'http' },
      { name: 'grpc', port: 9090, protocol: 'grpc' },
    ],
    routes: [{ pathPrefix: '/' }],
  },
};

const ECHO_YAML = 'apiVersion: meridian.dev/v1\nkind: Service\nmetadata:\n  name: echo\n';

describe('meridian get', () => {
  const server = new FakeAdminServer();
  let url = '';

  before(async () => {
    url = await server.start();
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
    server.answer((req) => {
      if (req.url === '/v1/resources/regions') return { body: REGIONS };
      if (req.url === '/v1/resources/services/echo') return { body: ECHO };
      if (req.url === '/v1/resources/services/echo?output=yaml') return { body: ECHO_YAML };
      if (req.url === '/v1/resources/services') return { body: { kind: 'List', revision: 3, items: [ECHO] } };
      if (req.url === '/v1/resources/instances') {
        const instance = (name: string, address: string) => ({
          kind: 'Instance',
          metadata: { name, resourceVersion: 5 },
          spec: { service: 'echo', region: 'fra', address, port: 9001, weight: 1 },
        });
        return { body: { kind: 'List', items: [instance('echo-1', '127.0.0.1'), instance('echo-2', '::1')] } };
      }
      if (req.url === '/v1/resources/failoverpolicies') {
        return { body: { kind: 'List', items: [{ kind: 'FailoverPolicy', metadata: { name: 'eu', resourceVersion: 8 }, spec: { service: 'echo' } }] } };
      }
      if (req.url === '/v1/resources/trafficroutes') return { body: { kind: 'List', revision: 3, items: [] } };
      return { status: 404, body: errorBody(`no ${req.url}`) };
    });
  });

  it('shows regions as a table with their status', async () => {
    const run = await runCli(['get', 'regions', '--server', url]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(server.requests[0].method, 'GET');
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^NAME\s+LOCATION\s+ONLINE\s+HEARTBEAT\s+SERVICES$/);
    assert.match(lines[1], /^fra\s+50\.11,8\.68\s+yes\s+\d+s ago\s+echo 2\/2, api 1\/2$/);
    assert.match(lines[2], /^sin\s+1\.35,103\.82\s+no\s+-\s+-$/);
    // Columns line up.
    assert.equal(lines[1].indexOf('50.11'), lines[0].indexOf('LOCATION'));
  });

  it('takes the singular and the kind name too', async () => {
    for (const word of ['region', 'Region']) {
      const run = await runCli(['get', word, '--server', url]);
      assert.equal(run.code, 0, run.stderr);
    }
    assert.deepEqual(server.requests.map((r) => r.url), ['/v1/resources/regions', '/v1/resources/regions']);
  });

  it('shows more columns with -o wide', async () => {
    const run = await runCli(['get', 'regions', '-o', 'wide', '--server', url]);
    assert.equal(run.code, 0, run.stderr);
    const [header, fra] = run.stdout.split('\n');
    assert.match(header, /^NAME\s+LOCATION\s+ONLINE\s+HEARTBEAT\s+SERVICES\s+INGRESS\s+TUNNEL\s+ACKED\s+VERSION$/);
    assert.match(fra, /127\.0\.0\.1:7603\s+-\s+-\s+10$/);
  });

  it('shows one service with its hosts and ports', async () => {
    const run = await runCli(['get', 'service', 'echo', '--server', url]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(server.requests[0].url, '/v1/resources/services/echo');
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^NAME\s+HOSTS\s+PORTS$/);
    assert.match(lines[1], /^echo\s+echo\.mesh, echo\.example\.com\s+80\/http, 9090\/grpc$/);
  });

  it('shows instances with their service and address', async () => {
    const run = await runCli(['get', 'instances', '--server', url]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^NAME\s+SERVICE\s+ADDRESS$/);
    assert.match(lines[1], /^echo-1\s+echo\s+127\.0\.0\.1:9001$/);
    assert.match(lines[2], /^echo-2\s+echo\s+\[::1\]:9001$/);
  });

  it('shows other kinds by name and resource version', async () => {
    const run = await runCli(['get', 'failoverpolicies', '--server', url]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^NAME\s+VERSION\neu\s+8\n$/);
  });

  it('says so when there is nothing to list', async () => {
    const run = await runCli(['get', 'trafficroutes', '--server', url]);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, 'no trafficroutes found\n');
  });

  it('prints the JSON the server sent with -o json, list or single', async () => {
    const list = await runCli(['get', 'regions', '-o', 'json', '--server', url]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), REGIONS);
    assert.equal(list.stdout, `${JSON.stringify(REGIONS, null, 2)}\n`);
    const one = await runCli(['get', 'services', 'echo', '-o', 'json', '--server', url]);
    assert.deepEqual(JSON.parse(one.stdout), ECHO);
  });

  it('asks the server for YAML with -o yaml and prints it as sent', async () => {
    const run = await runCli(['get', 'services', 'echo', '-o', 'yaml', '--server', url]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(server.requests[0].url, '/v1/resources/services/echo?output=yaml');
    assert.equal(server.requests[0].headers.accept, 'application/yaml');
    assert.equal(run.stdout, ECHO_YAML);
  });

  it('reports a missing resource in one line', async () => {
    server.answer(() => ({ status: 404, body: errorBody('Service/nope not found') }));
    const run = await runCli(['get', 'services', 'nope', '--server', url]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, 'error: not found: Service/nope not found\n');
  });

  it('refuses an unknown kind or output format before asking the server', async () => {
    const kind = await runCli(['get', 'gizmos', '--server', url]);
    assert.equal(kind.code, 1);
    assert.match(kind.stderr, /^error: unknown resource kind "gizmos" \(kinds: regions, services, .*\)\n$/);
    const output = await runCli(['get', 'regions', '-o', 'xml', '--server', url]);
    assert.equal(output.code, 2);
    assert.match(output.stderr, /^error: unknown output format "xml"/);
    assert.equal(server.requests.length, 0);
  });
});
