// Keepalive of the long-lived control streams (federation, discovery), both
// sides. A ping every 10 s finds a dead peer behind a silent network; the 20 s
// to answer it is longer than the longest event-loop pause of a busy peer (a
// zone applying a 10,000-service view under load takes seconds): with 5 s such
// a zone would be cut off, rejoin, be sent everything again and stay busy.
export const STREAM_KEEPALIVE = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 1,
} as const;

// Servers accept the clients' pings at that rhythm.
export const STREAM_SERVER_KEEPALIVE = {
  ...STREAM_KEEPALIVE,
  'grpc.http2.min_ping_interval_without_data_ms': 5_000,
} as const;
