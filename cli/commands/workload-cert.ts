// `meridian workload-cert`: gets a workload certificate from a zone
// controller (POST /v1/workload-certificates) for a key made here.
import * as fs from 'node:fs';
import { parseCommandArgs, stringOption } from '../args';
import { CliError, UsageError } from '../errors';
import { normalizeServer } from '../admin-client';
import { commandToken } from '../token-source';
import { DEFAULT_ZONE, zoneOptions } from '../zone-client';
import { writeWorkloadCertFiles } from '../workload-cert-files';
import { parseIdentity, requestWorkloadCertificate, WorkloadCertificateRequestError } from '../../lib/pki';

export const usage = `Usage: meridian workload-cert --service NAME --out DIR [options]

Gets a certificate for a workload (an instance of a service) from this
region's zone controller. The key is made here and never sent: the zone
controller signs a CSR for it with its zone CA. The identity is
spiffe://<trust-domain>/region/<region>/service/<service>, decided by the
zone from the instance token (of the region, for the service or "*").

Writes DIR/cert.pem (the certificate, then the zone CA), DIR/key.pem (mode
0600) and DIR/ca.pem (the mesh roots), replacing what is there. The
certificate lives as long as the zone's proxy certificates (24 h by
default); renewing it is the workload's job: run this again before two
thirds of its life have passed, then reload the files.

  --service NAME        the service (it must exist in the mesh)
  --out DIR             where to write cert.pem, key.pem and ca.pem
  --region R            refuse a certificate of another region (a check:
                        the zone controller decides the region)
  --lifetime SECONDS    a shorter life than the zone's (300 or more)
  --key-type rsa|ec     the key to make: RSA 2048 (default) or EC P-256
  --token-file FILE     read the instance token from this file

Connection:
  --zone URL      the zone controller's HTTP API (env MERIDIAN_ZONE, default ${DEFAULT_ZONE})
  --token TOKEN   an instance token of the region for the service (env MERIDIAN_INSTANCE_TOKEN;
                  meridian token create --instance --region R --service S)

Example:
  meridian workload-cert --zone http://10.1.0.5:7500 --token-file /etc/echo/instance.token \\
    --service echo --out /etc/echo/mesh
`;

export async function run(argv: string[]): Promise<void> {
  const args = parseCommandArgs('workload-cert', argv, {
    ...zoneOptions,
    'token-file': { type: 'string' },
    service: { type: 'string' },
    out: { type: 'string' },
    region: { type: 'string' },
    lifetime: { type: 'string' },
    'key-type': { type: 'string' },
  });
  if (args.help) return void process.stdout.write(usage);
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`, 'workload-cert');
  const service = stringOption(args, 'service');
  if (!service) throw new UsageError('missing --service', 'workload-cert');
  const out = stringOption(args, 'out');
  if (!out) throw new UsageError('missing --out', 'workload-cert');
  const region = stringOption(args, 'region');
  const lifetime = stringOption(args, 'lifetime');
  let lifetimeSeconds: number | undefined;
  if (lifetime !== undefined) {
    lifetimeSeconds = Number(lifetime);
    if (!/^[0-9]+$/.test(lifetime) || !Number.isSafeInteger(lifetimeSeconds)) throw new UsageError(`--lifetime "${lifetime}" is not a whole number of seconds`, 'workload-cert');
  }
  const keyType = stringOption(args, 'key-type') ?? 'rsa';
  if (keyType !== 'rsa' && keyType !== 'ec') throw new UsageError(`--key-type "${keyType}" is not rsa or ec`, 'workload-cert');
  const zone = normalizeServer(stringOption(args, 'zone') || process.env.MERIDIAN_ZONE || DEFAULT_ZONE);
  const token = instanceToken(stringOption(args, 'token'), stringOption(args, 'token-file'));

  let certificate;
  try {
    certificate = await requestWorkloadCertificate({ zone, token, service, lifetimeSeconds, keyType });
  } catch (err) {
    if (err instanceof WorkloadCertificateRequestError) throw new CliError(err.message);
    throw err;
  }
  const got = parseIdentity(certificate.identity).region;
  if (region !== undefined && got !== region) {
    throw new CliError(`the zone controller at ${zone} is of region ${got}, not ${region} (--region): nothing written`);
  }
  const files = writeWorkloadCertFiles(out, certificate);
  process.stdout.write(
    `${certificate.identity}\n` +
      `  expires ${certificate.notAfter.toISOString()} (renew before ${renewBy(certificate.notAfter).toISOString()})\n` +
      `  wrote ${files.cert}, ${files.key}, ${files.ca}\n`,
  );
}

// --token, --token-file, or MERIDIAN_INSTANCE_TOKEN; one of them.
function instanceToken(flag: string | undefined, file: string | undefined): string {
  if (flag && file) throw new UsageError('give --token or --token-file, not both', 'workload-cert');
  if (file) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new CliError(`--token-file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    const token = commandToken(text.trim(), `--token-file ${file}`, {}, '');
    if (!token) throw new CliError(`--token-file ${file}: the file is empty`);
    return token;
  }
  const token = commandToken(flag, '--token', process.env, 'MERIDIAN_INSTANCE_TOKEN');
  if (!token) {
    throw new CliError('workload-cert needs an instance token: --token-file FILE, --token TOKEN or MERIDIAN_INSTANCE_TOKEN (make one with meridian token create --instance --region R --service S)');
  }
  return token;
}

// Two thirds of the way from now (about issuance) to expiry.
function renewBy(notAfter: Date): Date {
  const now = Date.now();
  return new Date(now + ((notAfter.getTime() - now) * 2) / 3);
}
