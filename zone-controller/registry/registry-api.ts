// The zone controller's instance registration API, mounted on its node:http
// server next to other handlers:
//   POST   /v1/instances          register (idempotent), 201 with the instance
//   GET    /v1/instances          {"instances": [...]}, optional ?service=<name>
//   GET    /v1/instances/{id}     the instance, or 404
//   DELETE /v1/instances/{id}     200 with the removed instance, or 404
//   POST   /v1/workload-certificates  a workload's certificate from its CSR
//          ({"service", "csr", "lifetimeSeconds"?}), 200 with
//          {"certificateChain", "trustBundle", "identity", "serial", "notAfter"}
// Errors are {"error": "..."}; validation errors and refused addresses add "field".
//
// Writes and certificates need an instance token of this region for the
// service (or "*"): 401 with `www-authenticate: Bearer` when there is none
// that holds, 403 when it is for another region or service. Reads take a token
// (and show its service's instances) or a loopback caller without one. A new
// address must be inside the Region's instance networks (403 otherwise).
//
// Caps (./registry-caps.ts): labels over a cap are refused with 413, a new
// instance over the zone's or its service's count with 429, and more requests
// than the credential's rate with 429 and Retry-After; the error names the
// cap and its value ({"error", "cap", "limit"}), nothing is stored or
// journalled, and meridian_zone_registry_refused_total{cap} counts it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../lib/observability/logger';
import type { InstanceTokenClaims } from '../../lib/auth/instance-token';
import type { InstanceAddressPolicy } from '../../lib/net/instance-address-policy';
import { validateInstanceInput } from './instance-input';
import { InstanceIdConflictError, type Instance, type InstanceRegistry } from './instance-registry';
import { mayUseService, RegistryAuth, RegistryAuthError, serviceRefusal, type RegistryCaller } from './registry-auth';
import { countRefusal, DEFAULT_REGISTRY_CAPS, labelRefusal, type CapName, type CapRefusal, type RegistryCaps } from './registry-caps';
import { RequestRateLimiter } from './request-rate-limiter';
import { validateWorkloadCertificateInput } from './workload-certificate-input';
import { MIN_WORKLOAD_LIFETIME_MS, WorkloadCertificateRefusal, type WorkloadCertificateIssuer } from '../identity/workload-certificates';

export interface RegistryApiOptions {
  registry: InstanceRegistry;
  // Whether a service of that name exists in the global snapshot.
  knownService: (name: string) => boolean;
  // This zone's region: tokens of other regions are refused.
  region: string;
  // Signature, expiry, revocation: the claims, or throws InstanceTokenError.
  verifyToken: (token: string) => InstanceTokenClaims;
  // Where new instances may be (the zone's Region as it is now).
  addressPolicy: () => InstanceAddressPolicy;
  logger?: Logger;
  maxBodyBytes?: number;
  // DEFAULT_REGISTRY_CAPS when absent.
  caps?: RegistryCaps;
  // The rate buckets' clock (ms); Date.now when absent.
  now?: () => number;
  // Called once per refusal by a cap (the refusals metric).
  onRefused?: (cap: CapName) => void;
  // Serves POST /v1/workload-certificates; without it the path is not served.
  workloadCertificates?: Pick<WorkloadCertificateIssuer, 'maxLifetimeMs' | 'issue' | 'count'>;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const COLLECTION = '/v1/instances';
const WORKLOAD_CERTIFICATES = '/v1/workload-certificates';
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

// Returns a handler that answers the request and returns true when the path is
// one of its own, or returns false and leaves the request alone.
export function createRegistryApiHandler(options: RegistryApiOptions): RequestHandler {
  const { registry, knownService, logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const auth = new RegistryAuth({ region: options.region, verifyToken: options.verifyToken });
  const caps = options.caps ?? DEFAULT_REGISTRY_CAPS;
  const rate = new RequestRateLimiter(caps.ratePerSecond, caps.rateBurst, options.now);

  function refuseByCap(res: ServerResponse, refusal: CapRefusal): void {
    options.onRefused?.(refusal.cap);
    if (refusal.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(refusal.retryAfterSeconds));
    sendJson(res, refusal.status, { error: refusal.message, cap: refusal.cap, limit: refusal.limit, ...(refusal.field ? { field: refusal.field } : {}) });
  }

  // The caller's request is taken from its bucket, or refused (true).
  function overRate(req: IncomingMessage, res: ServerResponse, caller: RegistryCaller): boolean {
    const credential = caller.kind === 'token' ? `token:${caller.claims.id}` : 'loopback';
    const decision = rate.take(credential);
    if (decision.ok) return false;
    // A body is discarded as it comes, so a client still sending it gets the
    // 429 rather than a reset connection; one declared over the body limit
    // closes the connection, as a 413 does.
    if (Number(req.headers['content-length']) > maxBodyBytes) res.setHeader('connection', 'close');
    else req.resume();
    const who = caller.kind === 'token' ? `instance token ${caller.claims.id}` : 'the loopback caller';
    refuseByCap(res, {
      cap: 'requests-per-second',
      limit: caps.ratePerSecond,
      status: 429,
      retryAfterSeconds: decision.retryAfterSeconds,
      message: `${who} sent more than ${caps.ratePerSecond} requests per second (burst ${caps.rateBurst}) (requests-per-second); retry after ${decision.retryAfterSeconds} s`,
    });
    return true;
  }

  // The body as JSON, or what went wrong, answered already (413, 400).
  async function readJson(req: IncomingMessage, res: ServerResponse): Promise<{ json: unknown } | 'aborted' | 'too-large' | 'invalid-json'> {
    const body = await readBody(req, maxBodyBytes);
    if (body === 'aborted') return body;
    if (body === 'too-large') {
      // Close rather than read the rest of an oversized body.
      res.setHeader('connection', 'close');
      sendError(res, 413, `request body is larger than ${maxBodyBytes} bytes`);
      return body;
    }
    try {
      return { json: JSON.parse(body.toString('utf8')) };
    } catch (err) {
      sendError(res, 400, `invalid JSON: ${(err as Error).message}`);
      return 'invalid-json';
    }
  }

  async function register(req: IncomingMessage, res: ServerResponse, caller: RegistryCaller & { kind: 'token' }): Promise<void> {
    const body = await readJson(req, res);
    if (typeof body === 'string') return;
    const input = validateInstanceInput(body.json, knownService);
    if (!input.ok) return sendJson(res, 400, { error: `${input.field}: ${input.message}`, field: input.field });
    if (!mayUseService(caller, input.value.service)) throw serviceRefusal(caller, input.value.service, `register instances of '${input.value.service}'`);
    const address = options.addressPolicy().check(input.value.address);
    if (!address.ok) return sendJson(res, 403, { error: `address: ${address.reason}`, field: 'address' });
    const tooLarge = labelRefusal(input.value.labels, caps);
    if (tooLarge) return refuseByCap(res, tooLarge);
    // Counts only for a new instance: re-registering one held is an update.
    const { service, port } = input.value;
    if (!registry.hasEndpoint(service, input.value.address, port)) {
      const tooMany = countRefusal(registry.size, registry.serviceSize(service), service, caps);
      if (tooMany) return refuseByCap(res, tooMany);
    }

    let instance;
    try {
      instance = registry.register({ ...input.value, tokenId: caller.claims.id });
    } catch (err) {
      if (err instanceof InstanceIdConflictError) return sendJson(res, 409, { error: `id: ${err.message}`, field: 'id' });
      throw err;
    }
    // Answer only once the registration would survive a zone controller restart.
    await registry.flush();
    sendJson(res, 201, instance);
  }

  async function deregister(res: ServerResponse, id: string, caller: RegistryCaller & { kind: 'token' }): Promise<void> {
    const instance = registry.get(id);
    if (!instance) return sendError(res, 404, `no instance '${id}'`);
    if (!mayUseService(caller, instance.service)) throw serviceRefusal(caller, instance.service, `deregister instances of '${instance.service}'`);
    if (!registry.deregister(id)) return sendError(res, 404, `no instance '${id}'`);
    logger?.debug({ instance: id, service: instance.service, tokenId: caller.claims.id }, 'instance deregistered');
    await registry.flush();
    sendJson(res, 200, instance);
  }

  // The identity is the token's: its region (this zone) and the service it
  // names, which the token must cover; the CSR gives only the key.
  async function issueWorkloadCertificate(
    req: IncomingMessage,
    res: ServerResponse,
    caller: RegistryCaller & { kind: 'token' },
    certificates: NonNullable<RegistryApiOptions['workloadCertificates']>,
  ): Promise<void> {
    const body = await readJson(req, res);
    if (body === 'too-large') return certificates.count('too-large');
    if (body === 'invalid-json') return certificates.count('invalid-request');
    if (body === 'aborted') return;
    const max = Math.floor(certificates.maxLifetimeMs / 1000);
    // A zone whose leaves live less than the minimum (tests) takes only its own.
    const lifetimeSeconds = { min: Math.min(MIN_WORKLOAD_LIFETIME_MS / 1000, max), max };
    const input = validateWorkloadCertificateInput(body.json, lifetimeSeconds);
    if (!input.ok) {
      certificates.count('invalid-request');
      return sendJson(res, 400, { error: `${input.field}: ${input.message}`, field: input.field });
    }
    const { service, csr, lifetimeMs } = input.value;
    if (!mayUseService(caller, service)) throw serviceRefusal(caller, service, `get certificates of '${service}'`);
    if (!knownService(service)) {
      certificates.count('unknown-service');
      return sendJson(res, 404, { error: `service: unknown service '${service}'`, field: 'service' });
    }
    let leaf;
    try {
      leaf = certificates.issue(service, csr, lifetimeMs ?? certificates.maxLifetimeMs, caller.claims.id);
    } catch (err) {
      if (!(err instanceof WorkloadCertificateRefusal)) throw err;
      if (err.outcome === 'unavailable') {
        res.setHeader('retry-after', '5');
        return sendError(res, 503, err.message);
      }
      return sendJson(res, 400, { error: err.message, field: 'csr' });
    }
    sendJson(res, 200, { certificateChain: leaf.chainPem, trustBundle: leaf.trustBundle, identity: leaf.identity, serial: leaf.serial, notAfter: leaf.notAfter.toISOString() });
  }

  function route(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> | void {
    const method = req.method ?? 'GET';
    if (path === WORKLOAD_CERTIFICATES) {
      const certificates = options.workloadCertificates!;
      if (method !== 'POST') return methodNotAllowed(res, 'POST');
      const caller = asTokenCaller(auth.caller(req, true));
      if (overRate(req, res, caller)) return certificates.count('rate-limited');
      return issueWorkloadCertificate(req, res, caller, certificates);
    }
    if (path === COLLECTION) {
      if (method === 'GET') {
        const caller = auth.caller(req, false);
        if (overRate(req, res, caller)) return;
        const service = new URLSearchParams(query).get('service');
        let instances: Instance[] = service === null ? registry.list() : registry.ofService(service);
        instances = instances.filter((i) => mayUseService(caller, i.service));
        return sendJson(res, 200, { instances });
      }
      if (method === 'POST') {
        const caller = asTokenCaller(auth.caller(req, true));
        if (overRate(req, res, caller)) return;
        return register(req, res, caller);
      }
      return methodNotAllowed(res, 'GET, POST');
    }

    let id: string;
    try {
      id = decodeURIComponent(path.slice(COLLECTION.length + 1));
    } catch {
      return sendError(res, 400, 'id: malformed percent-encoding');
    }
    if (method === 'GET') {
      const caller = auth.caller(req, false);
      if (overRate(req, res, caller)) return;
      const instance = registry.get(id);
      if (!instance) return sendError(res, 404, `no instance '${id}'`);
      if (caller.kind === 'token' && !mayUseService(caller, instance.service)) throw serviceRefusal(caller, instance.service, `read instances of '${instance.service}'`);
      return sendJson(res, 200, instance);
    }
    if (method === 'DELETE') {
      const caller = asTokenCaller(auth.caller(req, true));
      if (overRate(req, res, caller)) return;
      return deregister(res, id, caller);
    }
    return methodNotAllowed(res, 'GET, DELETE');
  }

  return (req, res) => {
    const url = req.url ?? '';
    const queryStart = url.indexOf('?');
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    if (!isOwnPath(path) && !(path === WORKLOAD_CERTIFICATES && options.workloadCertificates)) return false;
    const query = queryStart === -1 ? '' : url.slice(queryStart + 1);

    const fail = (err: unknown): void => {
      if (err instanceof RegistryAuthError) {
        if (path === WORKLOAD_CERTIFICATES) options.workloadCertificates?.count(err.status === 401 ? 'unauthenticated' : 'forbidden');
        return refuse(res, err);
      }
      logger?.error({ err, method: req.method, path }, 'registry API request failed');
      if (!res.headersSent) sendError(res, 500, `internal error: ${(err as Error)?.message ?? String(err)}`);
      else res.destroy();
    };
    try {
      const pending = route(req, res, path, query);
      if (pending) pending.catch(fail);
    } catch (err) {
      fail(err);
    }
    return true;
  };
}

function isOwnPath(path: string): boolean {
  if (path === COLLECTION) return true;
  // /v1/instances/{id}: exactly one non-empty segment after the collection.
  return path.startsWith(COLLECTION + '/') && path.length > COLLECTION.length + 1 && path.indexOf('/', COLLECTION.length + 1) === -1;
}

// Reads the whole body, or stops at maxBytes. 'aborted' when the client went away.
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large' | 'aborted'> {
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) return Promise.resolve('too-large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: Buffer | 'too-large' | 'aborted'): void => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        finish('too-large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(Buffer.concat(chunks, size));
    const onError = (): void => finish('aborted');
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

// Writes only ever get token callers (RegistryAuth.caller with write).
function asTokenCaller(caller: RegistryCaller): RegistryCaller & { kind: 'token' } {
  if (caller.kind !== 'token') throw new RegistryAuthError(401, 'an instance token is required');
  return caller;
}

function refuse(res: ServerResponse, err: RegistryAuthError): void {
  if (res.headersSent) return void res.destroy();
  if (err.status === 401) res.setHeader('www-authenticate', 'Bearer');
  sendError(res, err.status, err.message);
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  sendError(res, 405, `method not allowed; allowed: ${allow}`);
}

function sendError(res: ServerResponse, status: number, error: string): void {
  sendJson(res, status, { error });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
