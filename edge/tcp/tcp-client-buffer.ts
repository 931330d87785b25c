// What a client sends before its upstream is connected: kept (up to a bound;
// beyond it the socket is paused, so TCP flow control holds the client) and
// written to the upstream first once there is one. Reading meanwhile is what
// lets a client that leaves during the connect be noticed.
import type { Socket } from 'node:net';

export const TCP_EARLY_BYTES_LIMIT = 64 * 1024;

export class ClientBuffer {
  private chunks: Buffer[] = [];
  private bytes = 0;
  // The client half-closed before the upstream was there.
  private ended = false;
  private readonly onData = (chunk: Buffer): void => {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes >= this.limit) this.client.pause();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
  };

  constructor(
    private readonly client: Socket,
    private readonly limit = TCP_EARLY_BYTES_LIMIT,
  ) {
    client.on('data', this.onData);
    client.once('end', this.onEnd);
  }

  get buffered(): number {
    return this.bytes;
  }

  // Hands the client over: what was read goes to the upstream, in order.
  // The caller pipes the client from here on (a pipe from a client that
  // already ended ends the upstream).
  flushTo(upstream: Socket): number {
    this.client.off('data', this.onData);
    this.client.off('end', this.onEnd);
    const n = this.bytes;
    for (const c of this.chunks) upstream.write(c);
    this.chunks = [];
    this.bytes = 0;
    return n;
  }

  get clientEnded(): boolean {
    return this.ended;
  }

  discard(): void {
    this.client.off('data', this.onData);
    this.client.off('end', this.onEnd);
    this.chunks = [];
    this.bytes = 0;
  }
}
