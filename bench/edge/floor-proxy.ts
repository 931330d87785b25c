// The "node floor" row of the bench: the least a proxy on the edge's stack
// (node:http server, undici Pool, dispatch handler API) can do per request:
// no routing, no policy, no metrics, no added headers, the upstream's
// headers passed as they are. What the edge costs above this row is its own
// work; what this row costs against nginx is the platform's.
// BENCH_PORT, BENCH_BACKEND.
import * as http from 'node:http';
import { Pool, type Dispatcher } from 'undici';

const pool = new Pool(`http://127.0.0.1:${process.env.BENCH_BACKEND}`, { connections: 256, pipelining: 1 });

class Forward implements Dispatcher.DispatchHandler {
  constructor(private readonly res: http.ServerResponse) {}
  onRequestStart(): void {}
  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: http.IncomingHttpHeaders): void {
    delete headers.connection;
    this.res.writeHead(status, headers);
  }
  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.res.write(chunk);
  }
  onResponseEnd(): void {
    this.res.end();
  }
  onResponseError(): void {
    this.res.destroy();
  }
}

const server = http.createServer({ noDelay: true }, (req, res) => {
  pool.dispatch({ path: req.url ?? '/', method: 'GET', headers: req.rawHeaders }, new Forward(res));
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.BENCH_PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void pool.close().then(() => process.exit(0));
});
