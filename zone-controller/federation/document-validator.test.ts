// Validation in slices gives what one pass of lib/resources gives: the same
// documents, defaults filled in, and the same refusal naming every problem,
// also when the problem spans two slices.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateDocuments } from '../../lib/resources';
import { validateInSlices } from './document-validator';

const service = (name: string, spec: Record<string, unknown> = {}) => ({ apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name }, spec });

describe('validateInSlices', () => {
  it('returns the documents lib/resources returns, normalized ones included, for a large batch', async () => {
    const docs = Array.from({ length: 2000 }, (_, i) => service(`svc-${i}`, { hosts: [`svc-${i}.example.com`] }));
    const inline = validateDocuments(docs);
    assert.ok(inline.ok);
    // Half of them already in their validated form (as the global controller stores them).
    const texts = docs.map((d, i) => JSON.stringify(i % 2 ? inline.documents[i] : d));
    const t0 = Date.now();
    const result = await validateInSlices(texts);
    console.log(`# ${texts.length} documents validated in slices in ${Date.now() - t0} ms`);
    assert.ok(result.ok);
    assert.deepEqual(result.documents, inline.documents);
  });

  it('lets the event loop run between slices', async () => {
    const texts = Array.from({ length: 6 }, (_, i) => JSON.stringify(service(`svc-${i}`)));
    // Runs only if the validation gives up the event loop before it resolves.
    let ranBetween = false;
    setImmediate(() => (ranBetween = true));
    const result = await validateInSlices(texts, 2);
    assert.ok(result.ok);
    assert.equal(ranBetween, true);
  });

  it('refuses the whole batch with the field named, as one pass does', async () => {
    const texts = [service('a'), service('b', { ports: [{ name: 'http', port: 70000 }] }), service('a')].map((d) => JSON.stringify(d));
    const result = await validateInSlices(texts, 1);
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.problem : '', /document 1 \(Service\/b\): spec\.ports\[0\]\.port: must be an integer from 1 to 65535/);
    assert.match(!result.ok ? result.problem : '', /document 2 \(Service\/a\): metadata\.name: duplicate of document 0/);
  });

  it('refuses a kind/name that appears in two slices', async () => {
    const texts = [service('a'), service('b'), service('c'), service('a')].map((d) => JSON.stringify(d));
    const result = await validateInSlices(texts, 2);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.problem, 'document 3 (Service/a): metadata.name: duplicate of document 0 (the same kind and name may appear only once)');
  });

  it('refuses a batch with a document that is not JSON', async () => {
    const result = await validateInSlices([JSON.stringify(service('a')), JSON.stringify(service('b')), '{"kind":'], 1);
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.problem : '', /a document is not JSON/);
  });
});
