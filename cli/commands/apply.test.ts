import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';

import { errorBody, FakeAdminServer, type RecordedRequest } from '../testing/fake-admin-server';
import { runCli } from '../testing/run-cli';

const region = (name: string) => ({
  apiVersion: 'meridian.dev/v1',
  kind: 'Region',
  metadata: { name },
  spec: { location: { latitude: 1, longitude: 2 } },
});

const SERVICES_YAML = `apiVersion: meridian.dev/v1
kind: Service
metadata: {name: echo}
spec:
  ports: [{name: http, port: 80, protocol: http}]
---
apiVersion: meridian.dev/v1
kind: Service
metadata: {name: api}
spec: {}
`;

// Answers an apply with "created" for every document it was sent.
function createdAll(req: RecordedRequest) {
  const docs = JSON.parse(req.body) as { kind: string; metadata: { name: string } }[];
  return { body: { revision: 7, results: docs.map((d) => ({ kind: d.kind, name: d.metadata.name, action: 'created' })) } };
}

describe('meridian apply', () => {
  const server = new FakeAdminServer();
  let url = '';
  let dir = '';

  before(async () => {
    url = await server.start();
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
    server.answer(createdAll);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-apply-'));
    // Names chosen so that the sorted order differs from the creation order.
    fs.writeFileSync(path.join(dir, 'b-services.yaml'), SERVICES_YAML);
    fs.writeFileSync(path.join(dir, 'a-regions.json'), JSON.stringify([region('fra'), region('iad')]));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a document');
    fs.mkdirSync(path.join(dir, 'nested.yaml'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('sends every document of a directory in one request, files in name order', async () => {
    const run = await runCli(['apply', '-f', dir, '--server', url], { env: { MERIDIAN_TOKEN: 'admin-secret-0123456789' } });
    assert.equal(run.stderr, '');
    assert.equal(run.code, 0);
    assert.equal(server.requests.length, 1);
    const [req] = server.requests;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/v1/apply');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers.authorization, 'Bearer admin-secret-0123456789');
    const sent = JSON.parse(req.body) as { kind: string; metadata: { name: string } }[];
    assert.deepEqual(
      sent.map((d) => `${d.kind}/${d.metadata.name}`),
      ['Region/fra', 'Region/iad', 'Service/echo', 'Service/api'],
    );
    assert.equal(run.stdout, 'region/fra created\nregion/iad created\nservice/echo created\nservice/api created\n');
  });

  it('joins repeated -f and stdin in the order given', async () => {
    const file = path.join(dir, 'b-services.yaml');
    const run = await runCli(['apply', '-f', file, '-f', '-', '--server', url], {
      stdin: JSON.stringify(region('sin')),
    });
    assert.equal(run.code, 0, run.stderr);
    const sent = JSON.parse(server.requests[0].body) as { metadata: { name: string } }[];
    assert.deepEqual(sent.map((d) => d.metadata.name), ['echo', 'api', 'sin']);
    assert.match(run.stdout, /^service\/echo created\nservice\/api created\nregion\/sin created\n$/);
  });

  it('prints each invalid document with its field path and its file', async () => {
    server.answer(() => ({
      status: 400,
      body: errorBody('2 invalid documents', [
        { index: 2, kind: 'Service', name: 'echo', path: 'spec.ports[0].port', message: 'must be an integer from 1 to 65535' },
        { index: 0, kind: 'Region', name: 'fra', path: 'spec.location', message: 'is required' },
      ]),
    }));
    const run = await runCli(['apply', '-f', dir, '--server', url]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    const aRegions = path.join(dir, 'a-regions.json');
    const bServices = path.join(dir, 'b-services.yaml');
    assert.equal(
      run.stderr,
      `error: document 2 (Service/echo) in ${bServices} (its document 0): spec.ports[0].port: must be an integer from 1 to 65535\n` +
        `error: document 0 (Region/fra) in ${aRegions} (its document 0): spec.location: is required\n`,
    );
  });

  it('names the file of a document that is alone in its file', async () => {
    const single = path.join(dir, 'single.yaml');
    fs.writeFileSync(single, 'apiVersion: meridian.dev/v1\nkind: Service\nmetadata: {name: echo}\nspec: {bogus: 1}\n');
    server.answer(() => ({
      status: 400,
      body: errorBody('invalid', [{ index: 0, kind: 'Service', name: 'echo', path: 'spec.bogus', message: 'unknown field' }]),
    }));
    const run = await runCli(['apply', '-f', single, '--server', url]);
    assert.equal(run.stderr, `error: document 0 (Service/echo) in ${single}: spec.bogus: unknown field\n`);
    assert.equal(run.code, 1);
  });

  it('reports a YAML syntax error without sending anything', async () => {
    const broken = path.join(dir, 'broken.yaml');
    fs.writeFileSync(broken, 'kind: Service\nmetadata: {name: echo\n');
    const run = await runCli(['apply', '-f', broken, '--server', url]);
    assert.equal(run.code, 1);
    assert.equal(server.requests.length, 0);
    const lines = run.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0], /^error: .*broken\.yaml.*line \d+/);
  });

  it('reports a missing file in one line', async () => {
    const run = await runCli(['apply', '-f', path.join(dir, 'absent.yaml'), '--server', url]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, `error: cannot read ${path.join(dir, 'absent.yaml')}: no such file or directory\n`);
    assert.equal(server.requests.length, 0);
  });

  it('refuses a directory without document files', async () => {
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    const run = await runCli(['apply', '-f', empty, '--server', url]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, `error: no .yaml, .yml or .json files in ${empty}\n`);
  });

  it('refuses input without documents', async () => {
    const run = await runCli(['apply', '-f', '-', '--server', url], { stdin: '# nothing here\n' });
    assert.equal(run.code, 1);
    assert.equal(run.stderr, 'error: no documents found in <stdin>\n');
    assert.equal(server.requests.length, 0);
  });

  it('needs -f', async () => {
    const run = await runCli(['apply', '--server', url]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^error: missing -f FILE\|DIR\|- \(run 'meridian apply --help' for usage\)\n$/);
  });

  it('says which document conflicts on a 409', async () => {
    server.answer(() => ({ status: 409, body: errorBody('Service/echo has resourceVersion 12, not 9') }));
    const run = await runCli(['apply', '-f', path.join(dir, 'b-services.yaml'), '--server', url]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^error: conflict: Service\/echo has resourceVersion 12, not 9 \(.*\)\n$/);
  });
});
