// Plain HTTP/1.1 requests with any Host header (fetch does not allow setting
// it), over a keep-alive agent like a real client's.
import * as http from 'node:http';

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 16 });

export function httpGet(url: string, headers: Record<string, string> = {}, timeoutMs = 5000, agent: http.Agent = keepAlive): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
