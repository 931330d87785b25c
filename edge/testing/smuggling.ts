// Requests a gateway must refuse with 400 and never pass on: the shapes of
// request smuggling (RFC 9112 6.3, 11.2) and malformed framing, as raw text.
// Each names the host echo.mesh.
export const SMUGGLING_SHAPES: readonly [string, string][] = [
  ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: echo.mesh\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: echo.mesh\r\n\r\n'],
  ['two different Content-Lengths', 'POST / HTTP/1.1\r\nHost: echo.mesh\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd'],
  ['a bad chunk size', 'POST / HTTP/1.1\r\nHost: echo.mesh\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'],
  ['a chunk size with a sign', 'POST / HTTP/1.1\r\nHost: echo.mesh\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n'],
  ['an obfuscated Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: echo.mesh\r\nTransfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n'],
  ['obs-fold (a header continued on the next line)', 'GET / HTTP/1.1\r\nHost: echo.mesh\r\nX-Folded: a\r\n b\r\n\r\n'],
  ['obs-fold in Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: echo.mesh\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: 3\r\n\r\nabc'],
  ['a space before the colon', 'POST / HTTP/1.1\r\nHost: echo.mesh\r\nContent-Length : 3\r\n\r\nabc'],
  ['a bare LF line ending in headers', 'GET / HTTP/1.1\nHost: echo.mesh\nX-Foo: a\rb\n\n'],
  ['two Host headers', 'GET / HTTP/1.1\r\nHost: echo.mesh\r\nHost: other.mesh\r\n\r\n'],
];
