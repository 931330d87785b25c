// The zone controller's instance registration API, mounted on its node:http
// server next to other handlers:
//   POST   /v1/instances          register (idempotent), 201 with the instance
//   GET    /v1/instances          {"instances": [...]}, optional ?service=<name>
//   GET    /v1/instances/{id}     the instance, or 404
//   DELETE /v1/instances/{id}     200 with the removed instance, or 404
// Errors are {"error": "..."}; validation errors add "field".
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../lib/observability/logger';
import { validateInstanceInput } from './instance-input';
import { InstanceIdConflictError, type InstanceRegistry } from './instance-registry';

export interface RegistryApiOptions {
  registry: InstanceRegistry;
  // Whether a service of that name exists in the global snapshot.
  knownService: (name: string) => boolean;
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

  async function register(req: IncomingMessage, res: ServerResponse): Promise<void> {
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

    let instance;
    try {
      instance = registry.register(input.value);
    } catch (err) {
      if (err instanceof InstanceIdConflictError) return sendJson(res, 409, { error: `id: ${err.message}`, field: 'id' });
      throw err;
    }
    // Answer only once the registration would survive a zone controller restart.
    await registry.flush();
    sendJson(res, 201, instance);
  }

  async function deregister(res: ServerResponse, id: string): Promise<void> {
    const instance = registry.get(id);
    if (!instance || !registry.deregister(id)) return sendError(res, 404, `no instance '${id}'`);
    await registry.flush();
    sendJson(res, 200, instance);
  }

  function route(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> | void {
    const method = req.method ?? 'GET';
    if (path === COLLECTION) {
      if (method === 'GET') {
        const service = new URLSearchParams(query).get('service');
        const all = registry.list();
        return sendJson(res, 200, { instances: service === null ? all : all.filter((i) => i.service === service) });
      }
      if (method === 'POST') return register(req, res);
      return methodNotAllowed(res, 'GET, POST');
    }

    let id: string;
    try {
      id = decodeURIComponent(path.slice(COLLECTION.length + 1));
    } catch {
      return sendError(res, 400, 'id: malformed percent-encoding');
    }
    if (method === 'GET') {
      const instance = registry.get(id);
      return instance ? sendJson(res, 200, instance) : sendError(res, 404, `no instance '${id}'`);
    }
    if (method === 'DELETE') return deregister(res, id);
    return methodNotAllowed(res, 'GET, DELETE');
  }

  return (req, res) => {
    const url = req.url ?? '';
    const queryStart = url.indexOf('?');
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    if (!isOwnPath(path)) return false;
    const query = queryStart === -1 ? '' : url.slice(queryStart + 1);

    const fail = (err: unknown): void => {
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
