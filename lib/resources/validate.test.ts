// The envelope every kind shares and the list-level rules: error format,
// unknown kinds and fields, documents that are not objects, duplicates.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceKey } from './index';
import { formatValidationError, validateDocument, validateDocuments } from './validate';
import { accept, assertRefused, refuse, resource } from './validation-assertions';

const service = (name: string, spec: unknown = {}) => resource('Service', spec, name);

describe('formatValidationError', () => {
  it('names the document index, kind, name and path', () => {
    const docs = [resource('Region', { location: { latitude: 1, longitude: 2 } }, 'fra'), service('a'), service('echo', { ports: [{ name: 'http', port: 0 }] })];
    const result = validateDocuments(docs);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(result.errors.map(formatValidationError), [
      'document 2 (Service/echo): spec.ports[0].port: must be an integer from 1 to 65535',
    ]);
    assert.deepEqual(result.errors[0], {
      index: 2,
      kind: 'Service',
      name: 'echo',
      path: 'spec.ports[0].port',
      message: 'must be an integer from 1 to 65535',
    });
  });

  it('leaves out what is not known', () => {
    assert.equal(formatValidationError({ index: 0, path: '', message: 'broken' }), 'document 0: broken');
    assert.equal(formatValidationError({ index: 1, kind: 'Service', path: 'metadata', message: 'required' }), 'document 1 (Service/?): metadata: required');
  });
});

describe('validateDocuments', () => {
  it('accepts a valid list and returns the normalized documents in order', () => {
    const result = validateDocuments([service('a'), resource('Region', { location: { latitude: 0, longitude: 0 } }, 'fra')]);
    assert.equal(result.ok, true);
    if (!result.ok) return;
    assert.deepEqual(result.documents.map((d) => resourceKey(d.kind, d.metadata.name)), ['Service/a', 'Region/fra']);
  });

  it('accepts an empty list', () => {
    assert.deepEqual(validateDocuments([]), { ok: true, documents: [] });
  });

  it('returns every error of every document, not just the first', () => {
    const result = validateDocuments([service('a', { ports: [{ name: 'x', port: -1 }] }), service('B'), service('c', { foo: 1 })]);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(
      result.errors.map((e) => [e.index, e.path]),
      [
        [0, 'spec.ports[0].port'],
        [1, 'metadata.name'],
        [2, 'spec.foo'],
      ],
    );
  });

  it('refuses two documents with the same kind and name', () => {
    const result = validateDocuments([service('echo'), service('other'), service('echo')]);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.errors.length, 1);
    assert.equal(
      formatValidationError(result.errors[0]),
      'document 2 (Service/echo): metadata.name: duplicate of document 0 (the same kind and name may appear only once)',
    );
  });

  it('allows the same name for different kinds', () => {
    const result = validateDocuments([service('echo'), resource('ResiliencePolicy', { service: 'echo' }, 'echo')]);
    assert.equal(result.ok, true);
  });

  it('validateDocument checks one document', () => {
    const ok = validateDocument(service('echo'));
    assert.equal(ok.ok, true);
    const bad = validateDocument(service('Echo'), 4);
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.equal(bad.errors[0].index, 4);
  });
});

describe('the document envelope', () => {
  it('refuses a document that is not an object', () => {
    for (const [value, got] of [[null, 'null'], [[1], 'a list'], ['Service', 'string'], [5, 'number']] as const) {
      const [error] = refuse(value);
      assert.equal(error.path, '');
      assert.equal(error.message, `must be a resource document (an object with apiVersion, kind, metadata and spec), got ${got}`);
    }
  });

  it('refuses an unknown kind and lists the valid ones', () => {
    const error = assertRefused(resource('Servce', {}, 'echo'), 'kind', /^unknown kind 'Servce'; valid kinds: Region, Service, TrafficRoute, ResiliencePolicy, FailoverPolicy, TrafficPermission, Instance, Certificate$/);
    assert.equal(error.kind, 'Servce');
    assert.equal(error.name, 'echo');
  });

  it('suggests the kind when a lower-case or plural name is used', () => {
    assertRefused(resource('services', {}), 'kind', /^unknown kind 'services' \(did you mean 'Service'\?\); valid kinds: /);
  });

  it('refuses a missing kind', () => {
    assertRefused({ apiVersion: 'meridian.dev/v1', metadata: { name: 'x' }, spec: {} }, 'kind', /^required; valid kinds: Region, /);
  });

  it('requires apiVersion meridian.dev/v1', () => {
    assertRefused({ ...service('echo'), apiVersion: 'v1' }, 'apiVersion', 'must be "meridian.dev/v1", got "v1"');
    const { apiVersion: _omitted, ...withoutApiVersion } = service('echo');
    assertRefused(withoutApiVersion, 'apiVersion', 'required');
  });

  it('requires metadata and spec', () => {
    assertRefused({ apiVersion: 'meridian.dev/v1', kind: 'Service', spec: {} }, 'metadata', 'required');
    assertRefused({ apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'x' } }, 'spec', 'required');
  });

  it('refuses unknown fields at every level, naming the field', () => {
    const errors = refuse({ ...service('echo', { healthCheck: { intervall: '1s' } }), extra: true, metadata: { name: 'echo', namespace: 'x' } });
    assert.deepEqual(
      errors.map((e) => [e.path, e.message]),
      [
        ['metadata.namespace', "unknown field 'namespace'"],
        ['spec.healthCheck.intervall', "unknown field 'intervall'"],
        ['extra', "unknown field 'extra'"],
      ],
    );
  });

  it('accepts and drops a server-written status, so a document read back can be applied again', () => {
    const doc = accept({ ...service('echo'), status: { online: true } });
    assert.equal('status' in doc, false);
  });
});

describe('metadata', () => {
  it('keeps labels and resourceVersion', () => {
    const doc = accept({ ...service('echo'), metadata: { name: 'echo', labels: { team: 'core' }, resourceVersion: '42' } });
    assert.deepEqual(doc.metadata, { name: 'echo', labels: { team: 'core' }, resourceVersion: '42' });
  });

  it('requires a name that is a DNS label of at most 63 characters', () => {
    accept(service('a'));
    accept(service('echo-v2'));
    accept(service('a'.repeat(63)));
    assertRefused(service('a'.repeat(64)), 'metadata.name', 'must be at most 63 characters (is 64)');
    for (const bad of ['Echo', 'echo_v2', '-echo', 'echo-', 'echo.v2', '']) {
      assertRefused(service(bad), 'metadata.name', /^must be a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit, got /);
    }
    assertRefused({ ...service('x'), metadata: {} }, 'metadata.name', 'required');
  });

  it('bounds labels: 64 of them, keys of 1..128 characters, values of 256, 8192 bytes in all', () => {
    const withLabels = (labels: Record<string, string>) => ({ ...service('x'), metadata: { name: 'x', labels } });
    const many = (n: number, value = 'v') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, value]));
    accept(withLabels(many(64)));
    accept(withLabels({ ['k'.repeat(128)]: 'v'.repeat(256) }));
    assertRefused(withLabels(many(65)), 'metadata.labels', 'must have at most 64 labels, got 65');
    assertRefused(withLabels({ ['k'.repeat(129)]: 'v' }), 'metadata.labels', `a label key must be at most 128 characters, got 129 ("${'k'.repeat(32)}...")`);
    assertRefused(withLabels({ '': 'v' }), 'metadata.labels', 'a label key must not be empty');
    assertRefused(withLabels({ team: 'v'.repeat(257) }), 'metadata.labels.team', 'must be at most 256 characters, got 257');
    // 32 labels of 3-character keys and 253-character values: 8192 bytes; one more byte is over.
    const full = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${String(i).padStart(2, '0')}`, 'v'.repeat(253)]));
    accept(withLabels(full));
    assertRefused(withLabels({ ...full, k00: 'v'.repeat(254) }), 'metadata.labels', 'must be at most 8192 bytes in all (keys and values, UTF-8), got 8193');
    // Counted in UTF-8: 'é' is two bytes.
    assertRefused(withLabels({ ...full, k00: 'é' + 'v'.repeat(252) }), 'metadata.labels', /got 8193$/);
  });

  it('bounds resourceVersion at 19 digits', () => {
    accept({ ...service('x'), metadata: { name: 'x', resourceVersion: '9'.repeat(19) } });
    assertRefused({ ...service('x'), metadata: { name: 'x', resourceVersion: '9'.repeat(20) } }, 'metadata.resourceVersion', 'must be at most 19 digits');
  });

  it('requires labels to map strings to strings', () => {
    assertRefused({ ...service('x'), metadata: { name: 'x', labels: { team: 1 } } }, 'metadata.labels.team', 'must be a string, got number');
    assertRefused({ ...service('x'), metadata: { name: 'x', labels: { 'app.k8s.io/v': true } } }, 'metadata.labels["app.k8s.io/v"]', 'must be a string, got boolean');
  });

  it('requires resourceVersion to be a string of digits', () => {
    assertRefused({ ...service('x'), metadata: { name: 'x', resourceVersion: 'abc' } }, 'metadata.resourceVersion', /^must be a string of digits/);
    assertRefused({ ...service('x'), metadata: { name: 'x', resourceVersion: 42 } }, 'metadata.resourceVersion', 'must be a string, got number');
  });
});

describe('resourceKey', () => {
  it('joins kind and name', () => {
    assert.equal(resourceKey('Service', 'echo'), 'Service/echo');
  });
});
