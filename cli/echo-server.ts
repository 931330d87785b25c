// `meridian echo-server`: the demo's service. Answers every request with JSON
// naming its service, region and instance, and the request it received, so a
// person (or a test) sees where a request went and what arrived there.
// /healthz answers 200 for the zone controller's checks.
import * as http from 'node:http';
import { parseArgs } from 'node:util';
import { parseHostPort } from '../lib/cli/addresses';

export interface EchoServerOptions {
  host: string;
  port: number;
  service: string;
  region: string;
  instance: string;
}

export function createEchoServer(o: EchoServerOptions): http.Server {
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end('ok\n');
    }
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      const body = JSON.stringify({
        service: o.service,
        region: o.region,
        instance: o.instance,
        method: req.method,
        path: req.url,
        headers: req.headers,
        bodyBytes: bytes,
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string', default: '127.0.0.1:9001' },
      service: { type: 'string', default: 'echo' },
      region: { type: 'string', default: 'local' },
      instance: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write('usage: meridian echo-server [--listen HOST:PORT] [--service NAME] [--region NAME] [--instance NAME]\n');
    return;
  }
  const { host, port } = parseHostPort(values.listen!, '--listen');
  const server = createEchoServer({ host, port, service: values.service!, region: values.region!, instance: values.instance ?? `${values.service}-${port}` });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on ${values.listen}: ${err.message}`)));
    server.listen(port, host, resolve);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  process.on('SIGINT', () => server.close(() => process.exit(0)));
}
