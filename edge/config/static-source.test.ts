import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { silentLogger } from '../../lib/observability/logger';
import { instanceDoc, serviceDoc } from '../testing/upstream-server';
import { ConfigError } from './config-error';
import type { EdgeView } from './edge-view';
import { loadStaticConfig, StaticSource } from './static-source';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-static-'));
const write = (name: string, docs: unknown[]) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, docs.map((d) => stringify(d)).join('---\n'));
  return f;
};

describe('static config', () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('builds a view where every instance is local and healthy', async () => {
    const file = write('ok.yaml', [serviceDoc('echo'), instanceDoc('e1', 'echo', 9001, { region: 'fra', weight: 3 }), instanceDoc('e2', 'echo', 9002)]);
    const views: EdgeView[] = [];
    const source = new StaticSource(file, 'local', silentLogger());
    await source.start((v) => views.push(v));
    const list = views[0].instances.get('echo')!;
    assert.deepEqual(
      list.map((i) => [i.id, i.port, i.weight, i.healthy]),
      [
        ['e1', 9001, 3, true],
        ['e2', 9002, 1, true],
      ],
    );
    assert.equal(loadStaticConfig(file, 'local').warnings.length, 1, 'an instance of another region is served as local, with a warning');
  });

  it('an Instance\'s other ports reach the view; bad ones refuse the file naming the port', async () => {
    const file = write('ports.yaml', [serviceDoc('echo'), instanceDoc('e1', 'echo', 9001, { ports: { admin: 9101 } }), instanceDoc('e2', 'echo', 9002)]);
    const views: EdgeView[] = [];
    await new StaticSource(file, 'local', silentLogger()).start((v) => views.push(v));
    const [e1, e2] = views[0].instances.get('echo')!;
    assert.deepEqual(e1!.ports, { admin: 9101 });
    assert.equal(e2!.ports, undefined);

    const bad = write('bad-ports.yaml', [serviceDoc('echo'), instanceDoc('e1', 'echo', 9001, { ports: { admin: 0, Grpc: 9201 } })]);
    assert.throws(
      () => loadStaticConfig(bad, 'local'),
      (err: ConfigError) => {
        assert.match(err.lines.join('\n'), /Instance\/e1\): spec\.ports\.admin: must be an integer from 1 to 65535/);
        return true;
      },
    );
    const many = write('many-ports.yaml', [serviceDoc('echo'), instanceDoc('e1', 'echo', 9001, { ports: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`p${i}`, 9000 + i])) })]);
    assert.throws(() => loadStaticConfig(many, 'local'), /spec\.ports: must name at most 32 ports, got 33/);
  });

  it('refuses an invalid file naming every document and field', () => {
    const file = write('bad.yaml', [serviceDoc('echo', { limits: { maxRequestBodyBytes: -1 } }), instanceDoc('e1', 'echo', 70000), { kind: 'Nope' }]);
    assert.throws(
      () => loadStaticConfig(file, 'local'),
      (err: ConfigError) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.lines[0], /bad\.yaml: document 0 \(Service\/echo\): spec\.limits\.maxRequestBodyBytes: /);
        assert.match(err.lines[1], /bad\.yaml: document 1 \(Instance\/e1\): spec\.port: must be an integer from 1 to 65535/);
        assert.match(err.lines[2], /document 2/);
        return true;
      },
    );
  });

  it('reload keeps the last view when the new file is invalid', async () => {
    const file = write('reload.yaml', [serviceDoc('echo')]);
    const views: EdgeView[] = [];
    const source = new StaticSource(file, 'local', silentLogger());
    await source.start((v) => views.push(v));
    fs.writeFileSync(file, 'apiVersion: meridian.dev/v1\nkind: Service\nmetadata: {name: Bad_Name}\nspec: {}\n');
    assert.ok(source.reload() instanceof ConfigError);
    assert.equal(views.length, 1);
    fs.writeFileSync(file, stringify(serviceDoc('other')));
    assert.equal(source.reload(), undefined);
    assert.deepEqual([...views[1].services.keys()], ['other']);
    assert.equal(views[1].version, 2);
  });
});
