// A snapshot of 10,000 services is about 5 MB: more than grpc-js accepts by
// default (4 MiB). A zone, and anything that reads the federation stream as
// one, takes messages up to this size.
export const FEDERATION_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
