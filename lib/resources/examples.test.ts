// Every file under examples/ must validate: they are what users copy first.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parseDocuments } from './parse';
import { formatValidationError, validateDocuments } from './validate';
import type { ResourceDocument } from './schemas';
import { repoRoot } from '../../test-support/repo-root';

function documentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return documentFiles(full);
      return /\.(ya?ml|json)$/i.test(entry.name) ? [full] : [];
    });
}

const root = repoRoot();
const examplesDir = path.join(root, 'examples');

function load(file: string): ResourceDocument[] {
  const result = validateDocuments(parseDocuments(fs.readFileSync(file, 'utf8'), file));
  if (!result.ok) assert.fail(`${file}:\n${result.errors.map(formatValidationError).join('\n')}`);
  return result.documents;
}

describe('examples/', () => {
  const files = documentFiles(examplesDir);

  it('has the demo files', () => {
    const relative = files.map((f) => path.relative(examplesDir, f));
    for (const expected of ['regions.yaml', 'echo.yaml', path.join('more', 'failover.yaml')]) {
      assert.ok(relative.includes(expected), `examples/${expected} is missing`);
    }
  });

  for (const file of files) {
    it(`${path.relative(root, file)} validates`, () => {
      assert.ok(load(file).length > 0, 'no documents');
    });
  }

  it('regions.yaml holds the three demo regions', () => {
    const regions = load(path.join(examplesDir, 'regions.yaml'));
    assert.deepEqual(
      regions.map((r) => (r.kind === 'Region' ? [r.metadata.name, r.spec.location.latitude, r.spec.location.longitude, r.spec.displayName] : r.kind)),
      [
        ['fra', 50.11, 8.68, 'Frankfurt'],
        ['iad', 38.95, -77.45, 'Ashburn'],
        ['sin', 1.35, 103.99, 'Singapore'],
      ],
    );
  });

  it('echo.yaml holds the echo service and its resilience policy, and no failover policy', () => {
    const docs = load(path.join(examplesDir, 'echo.yaml'));
    assert.deepEqual(docs.map((d) => `${d.kind}/${d.metadata.name}`), ['Service/echo', 'ResiliencePolicy/echo']);
    const echo = docs[0];
    assert.ok(echo.kind === 'Service');
    assert.deepEqual(echo.spec.hosts, ['echo.example.com']);
    assert.deepEqual(echo.spec.healthCheck, {
      type: 'http',
      path: '/healthz',
      expectedStatus: 200,
      interval: '1s',
      timeout: '500ms',
      healthyThreshold: 1,
      unhealthyThreshold: 2,
    });
  });

  it('no file directly in examples/ holds a FailoverPolicy (the demo shows the nearest-region default)', () => {
    for (const file of files.filter((f) => path.dirname(f) === examplesDir)) {
      assert.ok(!load(file).some((d) => d.kind === 'FailoverPolicy'), `${file} holds a FailoverPolicy`);
    }
  });
});
