// The @fastify/http-proxy row of the bench: one process, keep-alive to the
// backend (undici, as the edge), and the same forwarded headers and request
// id the edge adds. BENCH_PORT, BENCH_BACKEND.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';

const app = Fastify({ logger: false });
void app.register(proxy, {
  upstream: `http://127.0.0.1:${process.env.BENCH_BACKEND}`,
  undici: { connections: 256, pipelining: 1 },
  replyOptions: {
    rewriteRequestHeaders: (req, headers) => ({
      ...headers,
      'x-forwarded-for': headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${req.ip}` : req.ip,
      'x-forwarded-proto': 'http',
      'x-forwarded-host': String(headers.host ?? ''),
      'x-request-id': randomUUID(),
    }),
  },
});
app.listen({ host: '127.0.0.1', port: Number(process.env.BENCH_PORT) }).catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
