// What a listener tolerates from a client before the request reaches the
// pipeline. Oversized headers get 431, a client that takes longer than
// headersTimeout to send its headers (slowloris) gets 408 and is closed,
// a request not received whole within requestTimeout likewise; idle
// keep-alive connections close after keepAliveTimeout. An HTTP/2 client gets
// at most http2MaxConcurrentStreams streams at once, and a connection whose
// client resets more than http2MaxResetsPerSecond streams within a second
// before their answer started is closed (http2-reset-guard.ts).
export interface ListenerLimits {
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  http2MaxConcurrentStreams: number;
  http2MaxResetsPerSecond: number;
}

// The flags' bounds: streams as browsers and gRPC expect (100 is the
// RFC 9113 recommended minimum), resets from a few cancellations a second to
// well past what any honest client cancels.
export const HTTP2_MAX_CONCURRENT_STREAMS_RANGE = { min: 1, max: 1_000 } as const;
export const HTTP2_MAX_RESETS_PER_SECOND_RANGE = { min: 10, max: 10_000 } as const;

export const DEFAULT_LIMITS: ListenerLimits = {
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 60_000,
  http2MaxConcurrentStreams: 128,
  http2MaxResetsPerSecond: 200,
};

// How often node looks for connections past their header or request
// timeout: often enough that a timeout fires close to when it is due.
export function checkingIntervalMs(limits: ListenerLimits): number {
  return Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4)));
}

// The fields node's HTTP/1.1 server reads from the server object, for both
// listeners (http2's secure server hands HTTP/1.1 connections to the same code).
export interface Http1ServerFields {
  maxHeaderSize?: number;
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
}

export function applyHttp1Limits(server: Http1ServerFields, limits: ListenerLimits): void {
  server.maxHeaderSize = limits.maxHeaderBytes;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs);
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
}
