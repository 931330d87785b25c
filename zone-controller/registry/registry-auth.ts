// Who is calling the registry API: the holder of an instance token (checked
// here: signature, expiry, revocation, region), or, for reads only, a caller
// on this node's loopback without one. Service scope is checked where the
// service is known (./registry-api.ts).
import type { IncomingMessage } from 'node:http';
import { ALL_SERVICES, InstanceTokenError, type InstanceTokenClaims } from '../../lib/auth/instance-token';

export type RegistryCaller = { kind: 'token'; claims: InstanceTokenClaims } | { kind: 'loopback' };

// status 401: no credential that holds; 403: a credential, not for this.
export class RegistryAuthError extends Error {
  constructor(readonly status: 401 | 403, message: string) {
    super(message);
    this.name = 'RegistryAuthError';
  }
}

export interface RegistryAuthOptions {
  region: string;
  // Signature, expiry, revocation: the claims, or InstanceTokenError.
  verifyToken: (token: string) => InstanceTokenClaims;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

export class RegistryAuth {
  constructor(private readonly options: RegistryAuthOptions) {}

  // Writes need a token; reads take a loopback caller without one.
  caller(req: IncomingMessage, write: boolean): RegistryCaller {
    const header = req.headers.authorization;
    if (header === undefined) {
      if (!write && isLoopback(req.socket.remoteAddress)) return { kind: 'loopback' };
      throw new RegistryAuthError(
        401,
        write
          ? 'an instance token is required (Authorization: Bearer <token>; meridian token create --instance)'
          : 'an instance token is required to read instances from another host (Authorization: Bearer <token>)',
      );
    }
    const m = BEARER.exec(header);
    if (!m) throw new RegistryAuthError(401, 'malformed Authorization header: expected Bearer <instance token>');
    let claims: InstanceTokenClaims;
    try {
      claims = this.options.verifyToken(m[1]!);
    } catch (err) {
      if (err instanceof InstanceTokenError) throw new RegistryAuthError(401, err.message);
      throw err;
    }
    if (claims.region !== this.options.region) {
      throw new RegistryAuthError(403, `instance token ${claims.id} is for region '${claims.region}', this zone is '${this.options.region}'`);
    }
    return { kind: 'token', claims };
  }
}

// Whether the caller may act on instances of `service`.
export function mayUseService(caller: RegistryCaller, service: string): boolean {
  return caller.kind === 'loopback' || caller.claims.service === ALL_SERVICES || caller.claims.service === service;
}

export function serviceRefusal(caller: RegistryCaller & { kind: 'token' }, service: string, what: string): RegistryAuthError {
  return new RegistryAuthError(403, `instance token ${caller.claims.id} is for service '${caller.claims.service}', not '${service}': it may not ${what}`);
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}
