// /v1/instance-tokens: instance tokens, scoped to a region and a service, with
// which whatever starts instances registers them with the region's zone
// controller (POST create, GET list, DELETE /v1/instance-tokens/{id} revoke).
import type * as http from 'node:http';
import { HttpError } from './http-response';

export interface InstanceTokenRouteDeps {}

// Returns the route name for metrics.
export async function instanceTokenRoutes(
  _req: http.IncomingMessage,
  _res: http.ServerResponse,
  method: string,
  path: string,
  _deps: InstanceTokenRouteDeps,
): Promise<string> {
  throw new HttpError(501, `${method} ${path}: instance tokens are not served yet`);
}
