// The workload's side of POST /v1/workload-certificates on a zone
// controller: makes a key here (it never leaves), sends a CSR with the
// instance token, and checks that what comes back is a certificate for that
// key. Used by `meridian workload-cert` and by tests that play a workload.
import { createPrivateKey, generateKeyPair, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { readCertificate } from './certificate';
import { createWorkloadCsr } from './csr';
import { generateKeyPairAsync } from './keys';

export interface WorkloadCertificateRequest {
  // The zone controller's HTTP API, e.g. http://10.1.0.5:7500.
  zone: string;
  // An instance token of the zone's region for the service (or "*").
  token: string;
  service: string;
  // Shorter than the zone's leaf lifetime; the zone's when absent.
  lifetimeSeconds?: number;
  // A key of the workload's own (PKCS#8 PEM: RSA of 2048 to 4096 bits, or
  // EC P-256); else a new one of keyType.
  keyPem?: string;
  // The key made when keyPem is absent: 'rsa' (2048 bits, the default) or 'ec' (P-256).
  keyType?: 'rsa' | 'ec';
  timeoutMs?: number;
}

export interface WorkloadCertificate {
  keyPem: string;
  // The leaf, then the zone CA.
  chainPem: string;
  // The mesh roots, active first.
  trustBundle: string[];
  identity: string;
  serial: string;
  notAfter: Date;
}

// A refusal by the zone (status, and the field it names), or no answer (no status).
export class WorkloadCertificateRequestError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'WorkloadCertificateRequestError';
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;

export async function requestWorkloadCertificate(request: WorkloadCertificateRequest): Promise<WorkloadCertificate> {
  const keyPem = request.keyPem ?? (request.keyType === 'ec' ? await generateEcP256Key() : (await generateKeyPairAsync()).privateKeyPem);
  const body = { service: request.service, csr: createWorkloadCsr(keyPem, request.service), ...(request.lifetimeSeconds === undefined ? {} : { lifetimeSeconds: request.lifetimeSeconds }) };
  const url = `${request.zone.replace(/\/+$/, '')}/v1/workload-certificates`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${request.token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(request.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new WorkloadCertificateRequestError(`cannot reach the zone controller at ${request.zone}: ${cause ?? (err as Error).message}`);
  }
  const text = await res.text();
  let answer: Record<string, unknown> | undefined;
  try {
    answer = JSON.parse(text) as Record<string, unknown>;
  } catch {
    answer = undefined;
  }
  if (!res.ok) {
    const error = typeof answer?.error === 'string' ? answer.error : text.split('\n', 1)[0];
    throw new WorkloadCertificateRequestError(`the zone controller refused the workload certificate: ${error} (HTTP ${res.status})`, res.status, typeof answer?.field === 'string' ? answer.field : undefined);
  }
  return checkedAnswer(answer, keyPem);
}

// What the zone sent must be a chain whose leaf holds our key and names the identity it says.
function checkedAnswer(answer: Record<string, unknown> | undefined, keyPem: string): WorkloadCertificate {
  const { certificateChain, trustBundle, identity, serial, notAfter } = answer ?? {};
  if (typeof certificateChain !== 'string' || !Array.isArray(trustBundle) || !trustBundle.every((pem) => typeof pem === 'string') || typeof identity !== 'string') {
    throw new WorkloadCertificateRequestError('the zone controller answered without certificateChain, trustBundle and identity');
  }
  const leafPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(certificateChain)?.[0];
  if (leafPem === undefined) throw new WorkloadCertificateRequestError('the zone controller answered a certificateChain with no certificate');
  const leaf = readCertificate(leafPem, 'workload certificate');
  if (!new X509Certificate(leafPem).checkPrivateKey(createPrivateKey(keyPem))) {
    throw new WorkloadCertificateRequestError('the certificate the zone controller answered is not for the key sent');
  }
  if (leaf.identity !== identity) throw new WorkloadCertificateRequestError(`the certificate names ${leaf.identity ?? 'no identity'}, the answer ${identity}`);
  return {
    keyPem,
    chainPem: certificateChain,
    trustBundle: trustBundle as string[],
    identity,
    serial: typeof serial === 'string' ? serial : leaf.serial,
    notAfter: typeof notAfter === 'string' ? new Date(notAfter) : leaf.notAfter,
  };
}

async function generateEcP256Key(): Promise<string> {
  const { privateKey } = await promisify(generateKeyPair)('ec', { namedCurve: 'P-256' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}
