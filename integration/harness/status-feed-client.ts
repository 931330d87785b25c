// A client of the global controller's status feed (/v1/status/ws) for tests:
// keeps every MeshStatus frame with its arrival time and waits for one that
// matches; or reports the HTTP status of a refused upgrade.
import WebSocket from 'ws';

export interface FeedFrame {
  at: number;
  status: any;
}

export class StatusFeedClient {
  readonly frames: FeedFrame[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push({ at: Date.now(), status: JSON.parse(data.toString()) });
      this.wake();
    });
    ws.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  // `options` for wss:// (ca, ...).
  static open(url: string, protocols?: string[], options?: WebSocket.ClientOptions): Promise<StatusFeedClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, options);
      const client = new StatusFeedClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  // The HTTP status and headers of an upgrade the server refuses.
  static refusal(url: string, protocols?: string[]): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols);
      ws.once('open', () => {
        ws.terminate();
        reject(new Error('the upgrade was accepted'));
      });
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      ws.once('error', () => undefined);
    });
  }

  // The first frame from index `from` on that matches.
  async next(match: (status: any) => boolean, timeoutMs = 5000, from = 0): Promise<FeedFrame> {
    const deadline = Date.now() + timeoutMs;
    for (let i = from; ; ) {
      for (; i < this.frames.length; i++) if (match(this.frames[i]!.status)) return this.frames[i]!;
      if (this.closed) throw new Error('the feed closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms (${this.frames.length} frames)`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.ws.terminate();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
