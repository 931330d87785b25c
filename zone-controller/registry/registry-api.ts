// The zone controller's instance registration API, mounted on its node:http
// server next to other handlers:
//   POST   /v1/instances          register (idempotent), 201 with the instance
//   GET    /v1/instances          {"instances": [...]}, optional ?service=<name>
//   GET    /v1/instances/{id}     the instance, or 404
//   DELETE /v1/instances/{id}     200 with the removed instance, or 404
// Errors are {"error": "..."}; validation errors and refused addresses add "field".
//
// Writes need an instance token of this region for the instance's service
// (or "*"): 401 with `www-authenticate: Bearer` when there is none that
// holds, 403 when it is for another region or service. Reads take a token
// (and show its service's instances) or a loopback caller without one. A new
// address must be inside the Region's instance networks (403 otherwise).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../lib/observability/logger';
import type { InstanceTokenClaims } from '../../lib/auth/instance-token';
import type { InstanceAddressPolicy } from '../../lib/net/instance-address-policy';
import { validateInstanceInput } from './instance-input';
import { InstanceIdConflictError, type Instance, type InstanceRegistry } from './instance-registry';
import { mayUseService, RegistryAuth, RegistryAuthError, serviceRefusal, type RegistryCaller } from './registry-auth';

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
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const COLLECTION = '/v1/instances';
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

// Returns a handler that answers the request and returns true when the path is
// one of its own, or returns false and leaves the request alone.
export function createRegistryApiHandler(options: RegistryApiOptions): RequestHandler {
  const { registry, knownService, logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const auth = new RegistryAuth({ region: options.region, verifyToken: options.verifyToken });

  async function register(req: IncomingMessage, res: ServerResponse, caller: RegistryCaller & { kind: 'token' }): Promise<void> {
    const body = await readBody(req, maxBodyBytes);
    if (body === 'aborted') return;
    if (body === 'too-large') {
      // Close rather than read the rest of an oversized body.
      res.setHeader('connection', 'close');
      return sendError(res, 413, `request body is larger than ${maxBodyBytes} bytes`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (err) {
      return sendError(res, 400, `invalid JSON: ${(err as Error).message}`);
    }
    const input = validateInstanceInput(parsed, knownService);
    if (!input.ok) return sendJson(res, 400, { error: `${input.field}: ${input.message}`, field: input.field });
    if (!mayUseService(caller, input.value.service)) throw serviceRefusal(caller, input.value.service, `register instances of '${input.value.service}'`);
    const address = options.addressPolicy().check(input.value.address);
    if (!address.ok) return sendJson(res, 403, { error: `address: ${address.reason}`, field: 'address' });

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

  function route(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> | void {
    const method = req.method ?? 'GET';
    if (path === COLLECTION) {
      if (method === 'GET') {
        const caller = auth.caller(req, false);
        const service = new URLSearchParams(query).get('service');
        let instances: Instance[] = service === null ? registry.list() : registry.ofService(service);
        instances = instances.filter((i) => mayUseService(caller, i.service));
        return sendJson(res, 200, { instances });
      }
      if (method === 'POST') return register(req, res, asTokenCaller(auth.caller(req, true)));
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
      const instance = registry.get(id);
      if (!instance) return sendError(res, 404, `no instance '${id}'`);
      if (caller.kind === 'token' && !mayUseService(caller, instance.service)) throw serviceRefusal(caller, instance.service, `read instances of '${instance.service}'`);
      return sendJson(res, 200, instance);
    }
    if (method === 'DELETE') return deregister(res, id, asTokenCaller(auth.caller(req, true)));
    return methodNotAllowed(res, 'GET, DELETE');
  }

  return (req, res) => {
    const url = req.url ?? '';
    const queryStart = url.indexOf('?');
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    if (!isOwnPath(path)) return false;
    const query = queryStart === -1 ? '' : url.slice(queryStart + 1);

    const fail = (err: unknown): void => {
      if (err instanceof RegistryAuthError) return refuse(res, err);
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
