import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDocuments, toYaml } from './parse';
import { validateDocuments } from './validate';

const SERVICE_YAML = `apiVersion: meridian.dev/v1
kind: Service
metadata:
  name: echo
spec:
  hosts: [echo.example.com]
`;

describe('parseDocuments: YAML', () => {
  it('reads one document', () => {
    assert.deepEqual(parseDocuments(SERVICE_YAML), [
      { apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'echo' }, spec: { hosts: ['echo.example.com'] } },
    ]);
  });

  it('reads --- separated documents and skips empty ones', () => {
    const text = `---\n# nothing here\n---\n${SERVICE_YAML}---\n---\nkind: Region\n...\n`;
    const docs = parseDocuments(text);
    assert.equal(docs.length, 2);
    assert.deepEqual(docs[1], { kind: 'Region' });
  });

  it('reads nothing from an empty text', () => {
    assert.deepEqual(parseDocuments(''), []);
    assert.deepEqual(parseDocuments('# just a comment\n'), []);
  });

  it('reads an unquoted 502 as a number and a quoted one as a string', () => {
    assert.deepEqual(parseDocuments('on: [502, "503", reset]'), [{ on: [502, '503', 'reset'] }]);
  });

  it('names the source, the document and the line of a syntax error', () => {
    const text = `${SERVICE_YAML}---\nkind: Service\nmetadata: name: echo\nspec: {}\n`;
    assert.throws(
      () => parseDocuments(text, 'echo.yaml'),
      (err: Error) => {
        assert.equal(
          err.message,
          'echo.yaml: syntax error in document 1 at line 9, column 11: Nested mappings are not allowed in compact mappings',
        );
        return true;
      },
    );
  });

  it('refuses a key given twice', () => {
    assert.throws(() => parseDocuments('kind: Service\nkind: Region\n', 'x.yaml'), /^Error: x\.yaml: syntax error in document 0 at line 2, column 1: Map keys must be unique/);
  });

  it('uses <input> when no source is named', () => {
    assert.throws(() => parseDocuments('a: [1'), /^Error: <input>: syntax error in document 0 at line 1/);
  });
});

describe('parseDocuments: JSON', () => {
  const doc = { apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'echo' }, spec: {} };

  it('reads a single object', () => {
    assert.deepEqual(parseDocuments(JSON.stringify(doc)), [doc]);
  });

  it('reads an array of documents', () => {
    assert.deepEqual(parseDocuments(JSON.stringify([doc, doc])), [doc, doc]);
  });

  it('reads a List as its items', () => {
    const list = { apiVersion: 'meridian.dev/v1', kind: 'List', revision: 7, items: [doc, { ...doc, kind: 'Region' }] };
    assert.deepEqual(parseDocuments(JSON.stringify(list, null, 2)), list.items);
  });

  it('reads a List in YAML as its items too', () => {
    assert.deepEqual(parseDocuments('kind: List\nitems:\n  - {a: 1}\n  - {b: 2}\n'), [{ a: 1 }, { b: 2 }]);
  });

  it('gives a line and column for a JSON syntax error', () => {
    assert.throws(() => parseDocuments('{"kind": "Service",\n "metadata" {}}', 'echo.json'), /^Error: echo\.json: syntax error in document 0 at line 2, column \d+: /);
  });
});

describe('toYaml', () => {
  it('writes multi-document YAML that reads back to the same documents', () => {
    const docs = [
      { apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'echo', resourceVersion: '42' }, spec: { hosts: ['echo.example.com'] } },
      { apiVersion: 'meridian.dev/v1', kind: 'ResiliencePolicy', metadata: { name: 'echo' }, spec: { service: 'echo', retries: { on: ['502', 'reset'] } } },
    ];
    const text = toYaml(docs);
    assert.match(text, /\n---\n/);
    assert.match(text, /resourceVersion: "42"/);
    assert.deepEqual(parseDocuments(text), docs);
  });

  it('writes shared values out in full, without YAML anchors', () => {
    const result = validateDocuments([
      { apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'a' }, spec: {} },
      { apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'b' }, spec: {} },
    ]);
    assert.equal(result.ok, true);
    if (!result.ok) return;
    const text = toYaml(result.documents);
    assert.doesNotMatch(text, /[&*]a\d/);
    assert.deepEqual(parseDocuments(text), result.documents);
  });

  it('writes nothing for no documents', () => {
    assert.equal(toYaml([]), '');
  });
});
