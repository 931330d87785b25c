// Validation of a workload certificate request body
// (POST /v1/workload-certificates): {"service", "csr", "lifetimeSeconds"?}.
// The first problem found is returned with the field it concerns.

export interface WorkloadCertificateInput {
  service: string;
  csr: string;
  // Absent: the zone's leaf lifetime.
  lifetimeMs?: number;
}

export type WorkloadCertificateInputResult = { ok: true; value: WorkloadCertificateInput } | { ok: false; field: string; message: string };

const KNOWN_FIELDS = new Set(['service', 'csr', 'lifetimeSeconds']);
// A PEM CSR of a 4096-bit RSA key with a few names is under 2 KiB.
export const MAX_CSR_CHARS = 16 * 1024;
const MAX_SERVICE_CHARS = 253;

export function validateWorkloadCertificateInput(body: unknown, lifetimeSeconds: { min: number; max: number }): WorkloadCertificateInputResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail('body', 'must be a JSON object');
  const fields = body as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!KNOWN_FIELDS.has(key)) return fail(key, 'unknown field');
  }
  const { service, csr, lifetimeSeconds: lifetime } = fields;

  if (service === undefined) return fail('service', 'is required');
  if (typeof service !== 'string' || service === '') return fail('service', 'must be a non-empty string');
  if (service.length > MAX_SERVICE_CHARS) return fail('service', `must be at most ${MAX_SERVICE_CHARS} characters, got ${service.length}`);

  if (csr === undefined) return fail('csr', 'is required (a PEM certificate signing request)');
  if (typeof csr !== 'string' || csr === '') return fail('csr', 'must be a non-empty string (a PEM certificate signing request)');
  if (csr.length > MAX_CSR_CHARS) return fail('csr', `must be at most ${MAX_CSR_CHARS} characters, got ${csr.length}`);

  if (lifetime === undefined) return { ok: true, value: { service, csr } };
  if (typeof lifetime !== 'number' || !Number.isInteger(lifetime) || lifetime < lifetimeSeconds.min || lifetime > lifetimeSeconds.max) {
    return fail('lifetimeSeconds', `must be an integer from ${lifetimeSeconds.min} to ${lifetimeSeconds.max} (this zone's leaf lifetime), got ${JSON.stringify(lifetime)}`);
  }
  return { ok: true, value: { service, csr, lifetimeMs: lifetime * 1000 } };
}

function fail(field: string, message: string): WorkloadCertificateInputResult {
  return { ok: false, field, message };
}
