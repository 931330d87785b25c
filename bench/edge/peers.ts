// What is measured, each as the command that runs it and the files it
// needs: the backend (nginx answering a fixed body, and 1 KB on /1k), the
// edge in static mode (also with its mesh listener, and over HTTPS), and the
// peers. The peers are set up to do the edge's work on every request
// (keep-alive to the backend; x-forwarded-for/-proto/-host and a request id
// added) and nothing more (no access log).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CertPair } from './tls-cert';

export const HOST = 'bench.mesh';
// The edge's region in static mode when --region is not given.
export const REGION = 'local';
export const BODY = '{"name":"bench-1","region":"local","ok":true}';
// The TLS rows' path, where the backend answers KB_BODY (1,024 bytes).
export const KB_PATH = '/1k';
const KB_BODY = 'x'.repeat(1024);

// Where nginx may write (it wants temp paths even when it never buffers).
function nginxPreamble(dir: string, name: string): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/${name}.pid;
error_log ${dir}/${name}.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/${name}-body;
  proxy_temp_path ${dir}/${name}-proxy;
  fastcgi_temp_path ${dir}/${name}-fastcgi;
  uwsgi_temp_path ${dir}/${name}-uwsgi;
  scgi_temp_path ${dir}/${name}-scgi;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
`;
}

export function backendNginx(dir: string, port: number): string[] {
  const file = path.join(dir, 'backend-nginx.conf');
  fs.writeFileSync(
    file,
    `${nginxPreamble(dir, 'backend')}  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / { default_type application/json; return 200 '${BODY}'; }
    location = ${KB_PATH} { default_type text/plain; return 200 '${KB_BODY}'; }
  }
}
`,
  );
  return ['nginx', '-c', file];
}

// nginx as a reverse proxy, plain HTTP on `port`, or with `tls` terminating
// TLS there (HTTP/1.1; the bench's self-signed certificate).
export function proxyNginx(dir: string, port: number, backend: number, tls?: CertPair): string[] {
  const name = tls ? 'proxy-tls' : 'proxy';
  const file = path.join(dir, `${name}-nginx.conf`);
  // TLS 1.3 and the suite the edge picks (edge/listener/secure-contexts.ts
  // puts TLS_AES_128_GCM_SHA256 first); nginx 1.22 would negotiate TLS 1.2.
  const listen = tls
    ? `listen 127.0.0.1:${port} ssl backlog=4096;
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256;`
    : `listen 127.0.0.1:${port} backlog=4096;`;
  fs.writeFileSync(
    file,
    `${nginxPreamble(dir, name)}  upstream backend {
    server 127.0.0.1:${backend};
    keepalive 256;
    keepalive_requests 1000000;
  }
  server {
    ${listen}
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Request-Id $request_id;
    }
  }
}
`,
  );
  return ['nginx', '-c', file];
}

export function haproxy(dir: string, port: number, backend: number): string[] {
  const file = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(
    file,
    `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  http-reuse always
frontend fe
  bind 127.0.0.1:${port}
  option forwardfor
  unique-id-format %{+X}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid
  http-request set-header X-Forwarded-Proto http
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  http-request set-header X-Request-Id %[unique-id]
  default_backend be
backend be
  server s1 127.0.0.1:${backend}
`,
  );
  return ['haproxy', '-db', '-f', file];
}

export function fastify(root: string, port: number, backend: number): { argv: string[]; env: NodeJS.ProcessEnv } {
  return {
    argv: [process.execPath, path.join(root, 'dist', 'bench', 'edge', 'fastify-proxy.js')],
    env: { BENCH_PORT: String(port), BENCH_BACKEND: String(backend) },
  };
}

export function floor(root: string, port: number, backend: number): { argv: string[]; env: NodeJS.ProcessEnv } {
  return {
    argv: [process.execPath, path.join(root, 'dist', 'bench', 'edge', 'floor-proxy.js')],
    env: { BENCH_PORT: String(port), BENCH_BACKEND: String(backend) },
  };
}

// The edge's Region names loopback as its instance network, so wrk on
// 127.0.0.1 is a caller the mesh listener takes (the edge row ignores it).
export function edgeConfig(dir: string, backend: number): string {
  const file = path.join(dir, 'edge.yaml');
  fs.writeFileSync(
    file,
    `apiVersion: meridian.dev/v1
kind: Region
metadata: {name: ${REGION}}
spec: {location: {latitude: 0, longitude: 0}, instanceNetworks: [127.0.0.0/8]}
---
apiVersion: meridian.dev/v1
kind: Service
metadata: {name: bench}
spec: {}
---
apiVersion: meridian.dev/v1
kind: Instance
metadata: {name: bench-1}
spec: {service: bench, address: 127.0.0.1, port: ${backend}}
`,
  );
  return file;
}

// `meridian edge --config` with one worker (or N); the access log is off, as
// it is for the peers (its default samples 1% of requests).
export function edge(root: string, config: string, port: number, workers = 1, nodeFlags: string[] = []): string[] {
  return [
    process.execPath,
    ...nodeFlags,
    path.join(root, 'bin', 'meridian'),
    'edge',
    '--config',
    config,
    '--http',
    `127.0.0.1:${port}`,
    '--name',
    'bench-edge',
    '--access-log-sample',
    '0',
    '--workers',
    String(workers),
  ];
}

// The same edge serving HTTPS on `port` instead (the bench's self-signed
// certificate; HTTP/2 through ALPN, HTTP/1.1 for wrk, which offers no ALPN).
export function tlsEdge(root: string, config: string, port: number, tls: CertPair, nodeFlags: string[] = []): string[] {
  const argv = edge(root, config, port, 1, nodeFlags);
  const i = argv.indexOf('--http');
  argv.splice(i, 2, '--https', `127.0.0.1:${port}`, '--cert', tls.cert, '--key', tls.key);
  return argv;
}

// The same edge with its mesh listener on `meshPort` as well: what a workload
// of the region reaches at http://<service>.mesh.
export function meshEdge(root: string, config: string, port: number, meshPort: number, workers = 1): string[] {
  return [...edge(root, config, port, workers), '--mesh-http', `127.0.0.1:${meshPort}`];
}
