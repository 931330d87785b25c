// `meridian register`: adds an instance to a zone controller's registry.
import { parseCommandArgs, stringListOption, stringOption } from '../args';
import { UsageError } from '../errors';
import { INSTANCE_BOUNDS, MAX_INSTANCE_WEIGHT } from '../../lib/resources/schemas/instance';
import { ZoneClient, zoneOptions, zoneUsage } from '../zone-client';

export const usage = `Usage: meridian register --service NAME --address IP --port PORT [options]

Registers an instance of a service with this region's zone controller. The
zone controller health-checks it and, once it passes, sends traffic to it.
Registering the same service, address and port again changes nothing.
Needs an instance token of the region for the service. The address must be
inside the Region's instance networks (spec.instanceNetworks; the private
ranges when it names none).

  --service NAME    the service (it must exist in the mesh)
  --address IP      the instance's IPv4 or IPv6 address
  --port PORT       its port
  --weight N        relative weight, 1..${MAX_INSTANCE_WEIGHT} (default 1)
  --label KEY=VALUE a label; repeat for more
  --ports NAME=PORT[,NAME=PORT]
                    the instance's port for each named port of the Service other
                    than the first (which is --port); a port not named is served
                    at the Service's own number. Repeat or list with commas; at
                    most ${INSTANCE_BOUNDS.maxPorts} names
  --id ID           the instance id (default: <service>-<random>)

${zoneUsage}

Example:
  export MERIDIAN_INSTANCE_TOKEN=$(meridian token create --instance --region fra --service echo)
  meridian register --zone http://10.1.0.5:7500 --service echo --address 10.1.2.3 --port 9001
  meridian register ... --service api --address 10.1.2.3 --port 8080 --ports admin=9101,grpc=9090
`;

// NAME=PORT pairs, from every --ports given (each may list several with
// commas). The zone controller holds them to its rules (names DNS labels,
// ports 1..65535) and names the port it refuses.
export function parsePorts(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pair of values.flatMap((v) => v.split(','))) {
    const m = /^([^=\s]+)=(\d{1,5})$/.exec(pair.trim());
    if (!m) throw new UsageError(`--ports "${pair}" is not NAME=PORT`, 'register');
    if (Object.hasOwn(out, m[1]!)) throw new UsageError(`--ports names "${m[1]}" twice`, 'register');
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

export async function run(argv: string[]): Promise<void> {
  const args = parseCommandArgs('register', argv, {
    ...zoneOptions,
    service: { type: 'string' },
    address: { type: 'string' },
    port: { type: 'string' },
    weight: { type: 'string' },
    label: { type: 'string', multiple: true },
    ports: { type: 'string', multiple: true },
    id: { type: 'string' },
  });
  if (args.help) return void process.stdout.write(usage);
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`, 'register');
  const body: Record<string, unknown> = {};
  for (const field of ['service', 'address', 'port'] as const) {
    const v = stringOption(args, field);
    if (!v) throw new UsageError(`missing --${field}`, 'register');
    body[field] = field === 'port' ? Number(v) : v;
  }
  const weight = stringOption(args, 'weight');
  if (weight !== undefined) body.weight = Number(weight);
  const id = stringOption(args, 'id');
  if (id) body.id = id;
  const labels = stringListOption(args, 'label');
  if (labels.length) {
    const map: Record<string, string> = {};
    for (const l of labels) {
      const eq = l.indexOf('=');
      if (eq <= 0) throw new UsageError(`--label "${l}" is not KEY=VALUE`, 'register');
      map[l.slice(0, eq)] = l.slice(eq + 1);
    }
    body.labels = map;
  }
  const ports = stringListOption(args, 'ports');
  if (ports.length) body.ports = parsePorts(ports);
  const client = new ZoneClient(args);
  client.requireToken('register');
  const instance = await client.request<{ id: string; service: string; address: string; port: number }>('POST', '/v1/instances', body);
  process.stdout.write(`instance/${instance.id} registered (service ${instance.service}, ${instance.address}:${instance.port})\n`);
}
