// Controlled mode: the proxy's mesh identity, issued before the gateway is
// built (the HTTPS listener of an ingress and the pools of an edge start
// with it). Static mesh files (--tls-cert) take precedence; a zone
// controller without a CA leaves the proxy without mesh TLS, said in the log.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../lib/observability/logger';
import type { EdgeOptions } from '../options';
import { CertificateClient, IssueError } from './certificate-client';
import { MeshIdentity } from './mesh-identity';

export async function startMeshIdentity(o: EdgeOptions, logger: Logger, credentials?: grpc.ChannelCredentials): Promise<MeshIdentity | undefined> {
  if (o.zone === undefined || o.tlsCert !== undefined) return undefined;
  const client = new CertificateClient(o.zone, credentials);
  const identity = new MeshIdentity(client, { proxy: o.name, mode: o.mode }, logger);
  try {
    await identity.start();
  } catch (err) {
    client.close();
    if (err instanceof IssueError && err.code === grpc.status.FAILED_PRECONDITION) {
      if (o.mode === 'ingress' && o.https !== undefined && o.certs.length === 0) {
        throw new Error(`--https: the zone controller issues no mesh certificate (${err.message}); give --cert and --key`);
      }
      logger.warn({ err: err.message }, 'no mesh identity: the zone controller has no CA; remote ingresses are reached without TLS');
      return undefined;
    }
    throw new Error(`mesh certificate from the zone controller at ${o.zone}: ${(err as Error).message}`);
  }
  if (o.mode === 'ingress' && o.https === undefined) {
    logger.warn('edges reach an ingress with mTLS: give --https at the ingress address the zone advertises (--http stays plain, for local callers)');
  }
  return identity;
}
