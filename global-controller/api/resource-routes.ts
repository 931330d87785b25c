// /v1/apply and /v1/resources/...: validated, all-or-nothing writes to the
// store and reads from its watch cache.
import type * as http from 'node:http';
import {
  certificateExpiryProblem,
  formatValidationError,
  pluralOf,
  resolveKind,
  toYaml,
  validateDocuments,
  type KindName,
} from '../../lib/resources';
import type { ResourceStore, StoredResource } from '../store/resource-store';
import type { ZoneStatusStore } from '../zones/zone-status-store';
import { HttpError, sendJson, sendText } from './http-response';
import { readBody } from './read-body';
import type { DocumentParser } from './document-parser';
import { storeErrorToHttp } from './store-errors-to-http';
import { regionStatusFields } from './regions-route';
import { redactCertificate, type CertificateKeys } from '../identity/certificate-keys';

export interface ResourceRoutesDeps {
  store: ResourceStore;
  zones: ZoneStatusStore;
  bodyLimitBytes: number;
  // Seals Certificate keys before they are stored.
  certificateKeys: CertificateKeys;
}

export interface ApplyDeps extends ResourceRoutesDeps {
  // Parses apply bodies off the event loop, within the document limits.
  documentParser: DocumentParser;
}

export async function applyDocuments(req: http.IncomingMessage, res: http.ServerResponse, deps: ApplyDeps): Promise<void> {
  const text = await readBody(req, deps.bodyLimitBytes);
  const raw = await deps.documentParser.parse(text, 'request body');
  if (raw.length === 0) throw new HttpError(400, 'the request holds no documents');
  const result = validateDocuments(raw);
  if (!result.ok) {
    const first = result.errors[0]!;
    const unknownKind = result.errors.some((e) => e.path === 'kind');
    throw new HttpError(
      400,
      `${unknownKind ? 'unknown kind' : 'invalid document'}: ${formatValidationError(first)}${result.errors.length > 1 ? ` (and ${result.errors.length - 1} more)` : ''}; nothing was applied`,
      result.errors.map((e) => ({ ...e, text: formatValidationError(e) })),
    );
  }
  for (const doc of result.documents) {
    const expired = doc.kind === 'Certificate' ? certificateExpiryProblem(doc) : undefined;
    if (expired) throw new HttpError(400, `invalid document: Certificate/${doc.metadata.name}: ${expired}; nothing was applied`);
  }
  // metadata.resourceVersion asks for optimistic concurrency on that document.
  const expected = new Map<string, number>();
  for (const doc of result.documents) {
    const rv = doc.metadata.resourceVersion;
    if (rv !== undefined) expected.set(`${doc.kind}/${doc.metadata.name}`, Number(rv));
  }
  try {
    // Certificate keys are sealed before anything reaches etcd.
    const documents = await Promise.all(
      result.documents.map(async (doc) =>
        doc.kind === 'Certificate' ? deps.certificateKeys.seal(doc, (await deps.store.get(doc.kind, doc.metadata.name))?.document) : doc,
      ),
    );
    const applied = await deps.store.apply(documents, expected);
    sendJson(res, 200, applied);
  } catch (err) {
    throw storeErrorToHttp(err);
  }
}

function kindFrom(word: string): KindName {
  const kind = resolveKind(word);
  if (!kind) throw new HttpError(400, `unknown kind '${word}'`);
  return kind;
}

function present(r: StoredResource, deps: ResourceRoutesDeps): Record<string, unknown> {
  const doc = { ...r.document, metadata: { ...r.document.metadata, resourceVersion: String(r.modRevision) } };
  if (r.kind === 'Region') return { ...doc, status: regionStatusFields(deps.zones.get(r.name)) };
  if (r.kind === 'Certificate') return redactCertificate(doc);
  return doc;
}

function wantsYaml(req: http.IncomingMessage, url: URL): boolean {
  const output = url.searchParams.get('output');
  if (output) return output === 'yaml';
  return /\b(application|text)\/(x-)?yaml\b/.test(req.headers.accept ?? '');
}

export async function listResources(req: http.IncomingMessage, res: http.ServerResponse, url: URL, word: string, deps: ResourceRoutesDeps): Promise<void> {
  const kind = kindFrom(word);
  let items: StoredResource[];
  try {
    items = await deps.store.list(kind);
  } catch (err) {
    throw storeErrorToHttp(err);
  }
  const docs = items.map((r) => present(r, deps));
  if (wantsYaml(req, url)) return sendText(res, 200, 'application/yaml; charset=utf-8', toYaml(docs));
  sendJson(res, 200, { apiVersion: 'meridian.dev/v1', kind: 'List', revision: deps.store.revision, items: docs });
}

export async function getResource(req: http.IncomingMessage, res: http.ServerResponse, url: URL, word: string, name: string, deps: ResourceRoutesDeps): Promise<void> {
  const kind = kindFrom(word);
  let item: StoredResource | undefined;
  try {
    item = await deps.store.get(kind, name);
  } catch (err) {
    throw storeErrorToHttp(err);
  }
  if (!item) throw new HttpError(404, `${pluralOf(kind)} '${name}' not found`);
  const doc = present(item, deps);
  if (wantsYaml(req, url)) return sendText(res, 200, 'application/yaml; charset=utf-8', toYaml([doc]));
  sendJson(res, 200, doc);
}

export async function deleteResource(res: http.ServerResponse, word: string, name: string, deps: ResourceRoutesDeps): Promise<void> {
  const kind = kindFrom(word);
  try {
    const out = await deps.store.delete(kind, name);
    sendJson(res, 200, { kind, name, ...out });
  } catch (err) {
    throw storeErrorToHttp(err);
  }
}
