// /v1/ca: the mesh's roots, their rotation and the end of a rotation's overlap.
import type * as http from 'node:http';
import type { RootCaStore } from '../identity/root-ca-store';
import { HttpError, sendJson } from './http-response';

export async function caRoutes(method: string, path: string, res: http.ServerResponse, rootCa: RootCaStore | undefined): Promise<string> {
  if (!rootCa) throw new HttpError(404, 'this global controller runs without a mesh CA (start it with --data-key-file)');
  try {
    if (path === '/v1/ca' && method === 'GET') {
      sendJson(res, 200, { trustDomain: rootCa.trustDomain, roots: await rootCa.summaries(), trustBundle: await rootCa.trustBundle() });
      return 'ca';
    }
    if (path === '/v1/ca/rotate' && method === 'POST') {
      sendJson(res, 200, { root: await rootCa.rotate() });
      return 'ca-rotate';
    }
    const m = /^\/v1\/ca\/roots\/([0-9a-f]{16})$/.exec(path);
    if (m && method === 'DELETE') {
      if (!(await rootCa.retire(m[1]!))) throw new HttpError(404, `no root ${m[1]}`);
      sendJson(res, 200, { retired: m[1] });
      return 'ca-retire';
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    const message = (err as Error).message;
    if (/active root/.test(message)) throw new HttpError(409, message);
    throw new HttpError(503, `the mesh CA is unavailable: ${message}`, [], { 'retry-after': '2' });
  }
  throw new HttpError(404, `no such endpoint: ${method} ${path}`);
}
