// The Date header's value, made at most once a second and shared by every
// response in that second, as node:http does (a timer per second while
// responses are sent, none per response).
let cached: string | undefined;

function reset(): void {
  cached = undefined;
}

export function utcDate(): string {
  if (cached === undefined) {
    const d = new Date();
    cached = d.toUTCString();
    setTimeout(reset, 1000 - d.getMilliseconds()).unref();
  }
  return cached;
}
