// HTTP/2 rapid reset (CVE-2023-44487): a client opens a stream and resets it
// at once, over and over. Each reset frees its slot, so the concurrent
// stream limit never bites, while every stream has started a request to an
// instance. As Envoy and nginx do, the resets a client sends before the
// answer to the stream started are counted per connection; more than
// maxPerSecond within a second and the connection gets a GOAWAY
// (ENHANCE_YOUR_CALM) and is closed, its streams' upstream requests aborted
// with them. The edge's own resets (an answer broken after its headers went
// out) are not counted: they come after the headers.
import * as http2 from 'node:http2';
import type { EdgeMetrics } from '../observability/edge-metrics';

const kResets = Symbol('meridian.http2Resets');

type GuardedSession = http2.ServerHttp2Session & { [kResets]?: ResetWindow };

// Resets within the current one-second window of one connection.
export class ResetWindow {
  private startedAt = -Infinity;
  private count = 0;

  constructor(
    private readonly maxPerSecond: number,
    private readonly onExceeded: () => void,
  ) {}

  // One reset at `now` (ms); true when it took the window over its limit.
  add(now: number): boolean {
    if (now - this.startedAt >= 1_000) {
      this.startedAt = now;
      this.count = 0;
    }
    if (++this.count !== this.maxPerSecond + 1) return false;
    this.onExceeded();
    return true;
  }
}

export function guardAgainstRapidReset(server: http2.Http2Server | http2.Http2SecureServer, maxPerSecond: number, metrics: EdgeMetrics): void {
  server.on('session', (session: GuardedSession) => {
    session[kResets] = new ResetWindow(maxPerSecond, () => {
      metrics.http2ConnectionsClosed.labels('rapid-reset').inc();
      // The GOAWAY goes out before the socket closes (destroy's own code
      // argument is not sent: node sends NO_ERROR without an error); the
      // streams still open are reset, their upstream requests aborted.
      session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, session.state.lastProcStreamID ?? 0);
      session.destroy();
    });
    session.on('stream', onStream);
  });
}

function onStream(stream: http2.ServerHttp2Stream): void {
  stream.once('aborted', onAborted);
}

// 'aborted': the stream closed while its answer was not finished.
function onAborted(this: http2.ServerHttp2Stream): void {
  if (this.headersSent) return;
  const session = this.session as GuardedSession | undefined;
  if (session === undefined || session.destroyed || session.closed) return;
  session[kResets]?.add(performance.now());
}
