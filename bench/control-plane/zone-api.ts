// The zone controller's instance API (POST/DELETE /v1/instances) over a
// keep-alive pool per zone, with a bound on requests in flight. Every request
// carries the region's instance token (one for every service: "*").
import { Pool } from 'undici';

export interface Registration {
  id: string;
  service: string;
  address: string;
  port: number;
}

export class ZoneApi {
  private readonly pool: Pool;
  inFlight = 0;

  private readonly auth: { authorization: string };

  constructor(readonly url: string, instanceToken: string, connections = 16) {
    this.pool = new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
    this.auth = { authorization: `Bearer ${instanceToken}` };
  }

  // Whether the zone checks the token yet (it gets the signing key just after Welcome).
  async acceptsToken(): Promise<boolean> {
    const res = await this.pool.request({ path: '/v1/instances?service=-', method: 'GET', headers: this.auth, headersTimeout: 10_000 });
    await res.body.text();
    return res.statusCode === 200;
  }

  async register(r: Registration): Promise<number> {
    this.inFlight++;
    try {
      const res = await this.pool.request({
        path: '/v1/instances',
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.auth },
        body: JSON.stringify(r),
        headersTimeout: 60_000,
        bodyTimeout: 60_000,
      });
      await res.body.text();
      return res.statusCode;
    } finally {
      this.inFlight--;
    }
  }

  async deregister(id: string): Promise<number> {
    this.inFlight++;
    try {
      const res = await this.pool.request({ path: `/v1/instances/${encodeURIComponent(id)}`, method: 'DELETE', headers: this.auth, headersTimeout: 60_000, bodyTimeout: 60_000 });
      await res.body.text();
      return res.statusCode;
    } finally {
      this.inFlight--;
    }
  }

  async instance(id: string): Promise<{ healthy: boolean; healthChangedAtMs: number } | undefined> {
    const res = await this.pool.request({ path: `/v1/instances/${encodeURIComponent(id)}`, method: 'GET', headers: this.auth, headersTimeout: 10_000 });
    const text = await res.body.text();
    return res.statusCode === 200 ? (JSON.parse(text) as { healthy: boolean; healthChangedAtMs: number }) : undefined;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

// Runs `task` for every item with at most `limit` running; calls onProgress
// about every `every` completions.
export async function inParallel<T>(items: T[], limit: number, task: (item: T) => Promise<void>, onProgress?: (done: number) => void, every = 1000): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await task(item);
      if (++done % every === 0) onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
