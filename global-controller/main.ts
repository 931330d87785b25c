// `meridian global-controller`: runs one replica until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { parseHostPort } from '../lib/cli/addresses';
import { parseDuration } from '../lib/resources';
import { ApiTokens } from './auth/api-tokens';
import { GlobalController } from './global-controller';

const USAGE = `usage: meridian global-controller [options]

  --etcd URLS              etcd endpoints, comma-separated (default http://127.0.0.1:2379)
  --grpc HOST:PORT         federation gRPC listener (default 127.0.0.1:7400)
  --http HOST:PORT         admin API, /metrics and /healthz (default 127.0.0.1:7401)
  --tokens-file FILE       admin API tokens, one 'ROLE TOKEN' per line (admin|read), # comments;
                           MERIDIAN_ADMIN_TOKEN and MERIDIAN_READ_TOKEN are read too
  --replica NAME           this replica's name (default HOST-PID)
  --heartbeat-interval D   zone heartbeat interval; three missed mark a zone offline (default 1s)
`;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      etcd: { type: 'string', default: 'http://127.0.0.1:2379' },
      grpc: { type: 'string', default: '127.0.0.1:7400' },
      http: { type: 'string', default: '127.0.0.1:7401' },
      'tokens-file': { type: 'string' },
      replica: { type: 'string' },
      'heartbeat-interval': { type: 'string', default: '1s' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const http = parseHostPort(values.http!, '--http');
  parseHostPort(values.grpc!, '--grpc');
  const tokens = ApiTokens.fromSources({ file: values['tokens-file'], env: process.env });
  if (tokens.size === 0) throw new Error('no admin API tokens: give --tokens-file FILE or set MERIDIAN_ADMIN_TOKEN');
  const controller = new GlobalController({
    etcdEndpoints: values.etcd!.split(',').map((s) => s.trim()).filter(Boolean),
    grpcAddress: values.grpc!,
    httpHost: http.host,
    httpPort: http.port,
    tokens,
    replica: values.replica,
    heartbeatIntervalMs: parseDuration(values['heartbeat-interval']!),
  });
  await controller.start();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    controller.logger.info({ signal }, 'stopping');
    controller.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
