// `meridian zone-controller`: runs one region's zone controller until SIGINT/SIGTERM.
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { parseHostPort } from '../lib/cli/addresses';
import { ZoneController } from './zone-controller';

const USAGE = `usage: meridian zone-controller --region NAME --global HOST:PORT --join-token TOKEN [options]

  --region NAME            the region this zone controller serves
  --global HOST:PORT       the global controller's federation address (default 127.0.0.1:7400)
  --join-token TOKEN       from 'meridian token create --region NAME' (or MERIDIAN_JOIN_TOKEN,
                           or --join-token-file FILE)
  --http HOST:PORT         instance registry API, /healthz, /metrics (default 127.0.0.1:7500)
  --grpc HOST:PORT         discovery for the region's edges and ingresses (default 127.0.0.1:7501)
  --dns HOST:PORT          DNS for *.mesh, UDP and TCP (default 127.0.0.1:5353)
  --ingress HOST:PORT      this region's zone ingress address, as advertised (default 127.0.0.1:7600)
  --state-dir DIR          where the last global snapshot and the instances are kept
`;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      region: { type: 'string' },
      global: { type: 'string', default: '127.0.0.1:7400' },
      'join-token': { type: 'string' },
      'join-token-file': { type: 'string' },
      http: { type: 'string', default: '127.0.0.1:7500' },
      grpc: { type: 'string', default: '127.0.0.1:7501' },
      dns: { type: 'string', default: '127.0.0.1:5353' },
      ingress: { type: 'string', default: '127.0.0.1:7600' },
      'state-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(USAGE);
  if (!values.region) throw new Error('--region is required');
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(values.region)) throw new Error(`--region: '${values.region}' is not a region name`);
  const joinToken =
    values['join-token'] ?? (values['join-token-file'] ? fs.readFileSync(values['join-token-file'], 'utf8').trim() : process.env.MERIDIAN_JOIN_TOKEN);
  if (!joinToken) throw new Error('a join token is required: --join-token, --join-token-file or MERIDIAN_JOIN_TOKEN');
  if (!values['state-dir']) throw new Error('--state-dir is required');
  parseHostPort(values.global!, '--global');
  parseHostPort(values.grpc!, '--grpc');
  parseHostPort(values.ingress!, '--ingress');
  const zone = new ZoneController({
    region: values.region,
    globalAddress: values.global!,
    joinToken,
    http: parseHostPort(values.http!, '--http'),
    grpcAddress: values.grpc!,
    dns: parseHostPort(values.dns!, '--dns'),
    stateDir: values['state-dir'],
    ingressAddress: values.ingress!,
  });
  await zone.start();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    zone.logger.info({ signal }, 'stopping');
    zone.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
