import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DocumentLimitError, parseDocuments, toYaml } from './parse';
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

describe('parseDocuments: limits', () => {
  const limits = { maxDocuments: 1000, maxResources: 128 };
  const service = (i: number) => `kind: Service\nmetadata:\n  name: s${i}\n`;

  function limitError(limit: 'maxDocuments' | 'maxResources', message: RegExp) {
    return (err: unknown) => {
      assert.ok(err instanceof DocumentLimitError, String(err));
      assert.equal(err.limit, limit);
      assert.match(err.message, message);
      return true;
    };
  }

  it('refuses a million empty documents, naming the limit', () => {
    const text = '---\n'.repeat(1_000_000);
    assert.throws(() => parseDocuments(text, 'request body', limits), limitError('maxDocuments', /^request body: more than 1000 YAML documents \(empty ones count\); the limit is 1000$/));
  });

  it('stops at the document limit: what follows it is never composed', () => {
    // Document 1004 (the first `---` opens document 0) is broken; past the limit nobody reads it.
    const text = '---\n'.repeat(1005) + 'a: [1\n';
    assert.throws(() => parseDocuments(text, 'x', limits), limitError('maxDocuments', /more than 1000 YAML documents/));
    assert.throws(() => parseDocuments(text, 'x'), /syntax error in document 1004/);
  });

  it('takes exactly the limits: 1000 documents of which 128 are resources', () => {
    const text = Array.from({ length: 1000 }, (_, i) => (i % 7 === 0 && i / 7 < 128 ? service(i) : '# empty\n')).join('---\n');
    const docs = parseDocuments(text, 'x', limits);
    assert.equal(docs.length, 128);
  });

  it('refuses resource 129, in YAML documents, a YAML List and a JSON array', () => {
    const docs = Array.from({ length: 129 }, (_, i) => service(i)).join('---\n');
    assert.throws(() => parseDocuments(docs, 'x', limits), limitError('maxResources', /^x: more than 128 resources \(documents and list items\); the limit is 128$/));
    const list = `kind: List\nitems:\n${Array.from({ length: 129 }, (_, i) => `  - {kind: Service, metadata: {name: s${i}}}\n`).join('')}`;
    assert.throws(() => parseDocuments(list, 'x', limits), limitError('maxResources', /more than 128 resources/));
    const json = JSON.stringify(Array.from({ length: 129 }, () => ({})));
    assert.throws(() => parseDocuments(json, 'x', limits), limitError('maxResources', /more than 128 resources/));
    assert.equal(parseDocuments(JSON.stringify(Array.from({ length: 128 }, () => ({}))), 'x', limits).length, 128);
  });

  it('counts a List spread over documents as all its items', () => {
    const half = (from: number) => `kind: List\nitems:\n${Array.from({ length: 65 }, (_, i) => `  - {n: ${from + i}}\n`).join('')}`;
    assert.throws(() => parseDocuments(`${half(0)}---\n${half(65)}`, 'x', limits), limitError('maxResources', /more than 128/));
  });

  it('has no limits unless given', () => {
    assert.equal(parseDocuments('---\n{a: 1}\n'.repeat(2000)).length, 2000);
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
