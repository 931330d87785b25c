// The W3C Trace Context `traceparent` header (https://www.w3.org/TR/trace-context/):
// version-traceid-parentid-flags, e.g.
//   00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01
// Read with slices of the header value (no object per request) once
// isValidTraceparent said yes.
export const TRACEPARENT_HEADER = 'traceparent';

const HEX = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}/;

// Version 00 is exactly 55 characters; a later version may append fields
// after a '-'; version ff is invalid, as are all-zero ids. Reads character
// codes: nothing allocated for a header that is checked on every request.
export function isValidTraceparent(value: string): boolean {
  if (value.length < 55 || !HEX.test(value)) return false;
  const v0 = value.charCodeAt(0);
  const v1 = value.charCodeAt(1);
  if (v0 === 102 && v1 === 102 /* ff */) return false;
  if (v0 === 48 && v1 === 48 /* 00 */ ? value.length !== 55 : value.length > 55 && value.charCodeAt(55) !== 45 /* - */) return false;
  return !allZeros(value, 3, 35) && !allZeros(value, 36, 52);
}

function allZeros(value: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (value.charCodeAt(i) !== 48) return false;
  return true;
}

export function traceIdOf(traceparent: string): string {
  return traceparent.slice(3, 35);
}

export function parentIdOf(traceparent: string): string {
  return traceparent.slice(36, 52);
}

// The sampled bit of trace-flags: the low bit of its second hex digit.
export function isSampled(traceparent: string): boolean {
  const c = traceparent.charCodeAt(54);
  return ((c <= 57 ? c - 48 : c - 87) & 1) === 1;
}

// Always version 00: a proxy sends the version it speaks.
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}
