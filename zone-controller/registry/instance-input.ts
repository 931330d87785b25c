// Validation of an instance registration body (POST /v1/instances). The first
// problem found is returned with the field it concerns, so the client can be
// told exactly what to fix.
import { isIP } from 'node:net';
import { INSTANCE_BOUNDS, instancePortsSchema, MAX_INSTANCE_WEIGHT } from '../../lib/resources/schemas/instance';

export interface InstanceInput {
  // Optional: the registry makes `<service>-<8 hex>` when it is absent.
  id?: string;
  service: string;
  address: string;
  port: number;
  weight?: number;
  labels?: Record<string, string>;
  // The instance's port for each named port of its Service other than the
  // first (which is `port`); the rule of the Instance resource's spec.ports.
  ports?: Record<string, number>;
  // The instance token that registered it (set by the registry API, not the body).
  tokenId?: string;
}

// What validation returns: defaults filled in, the address in canonical form.
export interface ValidInstanceInput extends InstanceInput {
  weight: number;
  labels: Record<string, string>;
}

export type InstanceInputResult =
  | { ok: true; value: ValidInstanceInput }
  | { ok: false; field: string; message: string };

const KNOWN_FIELDS = new Set(['id', 'service', 'address', 'port', 'weight', 'labels', 'ports']);
// URL-safe, since the id appears in /v1/instances/{id}.
const ID_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$/;
const DEFAULT_WEIGHT = 1;

export function validateInstanceInput(body: unknown, knownService: (name: string) => boolean): InstanceInputResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail('body', 'must be a JSON object');
  }
  const fields = body as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!KNOWN_FIELDS.has(key)) return fail(key, 'unknown field');
  }

  const { id, service, address, port, weight, labels, ports } = fields;

  if (service === undefined) return fail('service', 'is required');
  if (typeof service !== 'string' || service === '') return fail('service', 'must be a non-empty string');
  if (!knownService(service)) return fail('service', `unknown service '${service}'`);

  if (address === undefined) return fail('address', 'is required');
  if (typeof address !== 'string' || isIP(address) === 0) return fail('address', 'must be an IPv4 or IPv6 address');

  if (port === undefined) return fail('port', 'is required');
  if (!isIntegerIn(port, 1, 65535)) return fail('port', 'must be an integer from 1 to 65535');

  if (weight !== undefined && !isIntegerIn(weight, 1, MAX_INSTANCE_WEIGHT)) return fail('weight', `must be an integer from 1 to ${MAX_INSTANCE_WEIGHT}`);

  if (labels !== undefined) {
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
      return fail('labels', 'must be a map of strings to strings');
    }
    for (const [key, value] of Object.entries(labels)) {
      if (typeof value !== 'string') return fail(`labels.${key}`, 'must be a string');
    }
  }

  if (ports !== undefined) {
    if (typeof ports !== 'object' || ports === null || Array.isArray(ports)) return fail('ports', 'must be a map of port names to ports');
    const entries = Object.entries(ports);
    if (entries.length > INSTANCE_BOUNDS.maxPorts) return fail('ports', `must name at most ${INSTANCE_BOUNDS.maxPorts} ports, got ${entries.length}`);
    // A port as a string ("9101") gets the message a number out of range gets.
    const notNumber = entries.find(([, p]) => typeof p !== 'number');
    if (notNumber) return fail(`ports.${notNumber[0].slice(0, 64)}`, 'must be an integer from 1 to 65535');
    const checked = instancePortsSchema.safeParse(ports);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      return fail(['ports', ...issue.path.map(String)].join('.'), issue.message);
    }
  }

  if (id !== undefined && (typeof id !== 'string' || !ID_PATTERN.test(id))) {
    return fail('id', 'must be 1 to 128 characters of letters, digits, ".", "_" or "-", starting and ending with a letter or digit');
  }

  const value: ValidInstanceInput = {
    service,
    address: canonicalAddress(address),
    port: port as number,
    weight: (weight as number | undefined) ?? DEFAULT_WEIGHT,
    labels: { ...(labels as Record<string, string> | undefined) },
  };
  if (id !== undefined) value.id = id as string;
  // Absent rather than empty, so an instance without other ports stays as it was.
  if (ports !== undefined && Object.keys(ports).length > 0) value.ports = { ...(ports as Record<string, number>) };
  return { ok: true, value };
}

// One spelling per address, so `::1` and `0:0:0:0:0:0:0:1` are the same
// instance for idempotent registration.
export function canonicalAddress(address: string): string {
  if (isIP(address) !== 6 || address.includes('%')) return address;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address.toLowerCase();
  }
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function fail(field: string, message: string): InstanceInputResult {
  return { ok: false, field, message };
}
