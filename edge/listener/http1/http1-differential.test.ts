// The fast HTTP/1.1 path against node:http, request for request: two
// gateways, one per engine, each in front of its own recording instance
// (the same code), get the same raw requests; what each instance received and
// what each client got back must be the same bytes. Normalized, because they
// differ by design between any two runs: Date (the second it was made),
// x-request-id and traceparent (random per request), and the instance's
// Date. Request smuggling shapes and parser errors are in the corpus: the
// answer must be the same 400/431, and no byte may reach either instance.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Harness } from '../../testing/gateway-harness';
import { rawExchange } from '../../testing/raw-socket';
import { RecordingInstance } from '../../testing/recording-instance';
import { SMUGGLING_SHAPES } from '../../testing/smuggling';
import { instanceDoc, serviceDoc } from '../../testing/upstream-server';

const H = 'Host: echo.mesh\r\n';
const many = Array.from({ length: 40 }, (_, i) => `X-Many-${i}: v${i}\r\n`).join('');
const bigBody = 'b'.repeat(100 * 1024);
const chunkedBig = `${(80 * 1024).toString(16)}\r\n${'c'.repeat(80 * 1024)}\r\n0\r\n\r\n`;

// [name, raw request(s)]; each connection ends by the server (Connection:
// close, an error, or the short keep-alive timeout of both gateways).
const CORPUS: readonly [string, string][] = [
  ['GET, keep-alive', `GET /a?x=1 HTTP/1.1\r\n${H}Accept: */*\r\n\r\n`],
  ['GET, Connection: close', `GET /a HTTP/1.1\r\n${H}Connection: close\r\n\r\n`],
  ['two requests on one connection', `GET /1 HTTP/1.1\r\n${H}\r\n`],
  ['HEAD', `HEAD /a HTTP/1.1\r\n${H}\r\n`],
  ['HEAD of a long body', `HEAD /big HTTP/1.1\r\n${H}\r\n`],
  ['POST with Content-Length', `POST /p HTTP/1.1\r\n${H}Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello`],
  ['POST chunked with trailers', `POST /p HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n`],
  ['PUT of 100 KiB (streamed)', `PUT /p HTTP/1.1\r\n${H}Content-Length: ${bigBody.length}\r\n\r\n${bigBody}`],
  ['POST chunked 80 KiB (streamed)', `POST /p HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${chunkedBig}`],
  ['GET with a body', `GET /p HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc`],
  ['a chunked response with a trailer', `GET /chunked HTTP/1.1\r\n${H}TE: trailers\r\n\r\n`],
  ['1xx from the instance', `GET /early-hints HTTP/1.1\r\n${H}\r\n`],
  ['204 from the instance', `GET /no-content HTTP/1.1\r\n${H}\r\n`],
  ['304 from the instance', `GET /not-modified HTTP/1.1\r\n${H}If-None-Match: "v1"\r\n\r\n`],
  ['two Set-Cookie', `GET /cookies HTTP/1.1\r\n${H}\r\n`],
  ['a long body', `GET /big HTTP/1.1\r\n${H}\r\n`],
  ['a long chunked body', `GET /big-chunked HTTP/1.1\r\n${H}\r\n`],
  ['40 header fields', `GET /many HTTP/1.1\r\n${H}${many}\r\n`],
  ['headers near the limit', `GET /near HTTP/1.1\r\n${H}X-Big: ${'n'.repeat(7_000)}\r\n\r\n`],
  ['headers over the limit (431)', `GET /over HTTP/1.1\r\n${H}X-Big: ${'o'.repeat(9_000)}\r\n\r\n`],
  ['latin1 bytes in a header', `GET /l HTTP/1.1\r\n${H}X-Latin: caf\xe9\r\n\r\n`],
  ['HTTP/1.0', `GET /old HTTP/1.0\r\n${H}\r\n`],
  ['HTTP/1.0 keep-alive', `GET /old HTTP/1.0\r\n${H}Connection: keep-alive\r\n\r\n`],
  ['HTTP/1.0 without Host', 'GET /old HTTP/1.0\r\n\r\n'],
  ['HTTP/1.1 without Host', 'GET /nohost HTTP/1.1\r\n\r\n'],
  ['unknown host (a local reply)', 'GET / HTTP/1.1\r\nHost: nowhere.example\r\n\r\n'],
  ['unknown host with an unread body, then a request', `POST / HTTP/1.1\r\nHost: nowhere.example\r\nContent-Length: 4\r\n\r\nbody`],
  ['Expect: 100-continue', `POST /p HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 2\r\n\r\nok`],
  ['Expect: something else (417)', `POST /p HTTP/1.1\r\n${H}Expect: teapot\r\nContent-Length: 2\r\n\r\nok`],
  ['absolute-form target', 'GET http://echo.mesh/abs HTTP/1.1\r\nHost: echo.mesh\r\n\r\n'],
  ['OPTIONS *', `OPTIONS * HTTP/1.1\r\n${H}\r\n`],
  ['Connection names a hop-by-hop header', `GET /hop HTTP/1.1\r\n${H}Connection: x-hop\r\nX-Hop: 1\r\n\r\n`],
  ['an h2c upgrade (served as HTTP/1.1)', `GET /h2c HTTP/1.1\r\n${H}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`],
  ['an unknown upgrade', `GET /up HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: foo/1\r\n\r\n`],
  ['a malformed request line', 'GARBAGE\r\n\r\n'],
  ['a parser error on the second request', `GET /first HTTP/1.1\r\n${H}\r\nGET /second HTTP/1.1\r\nHost echo.mesh\r\n\r\n`],
  ['a truncated chunked body', `POST /p HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhel`],
  ['a request, then the client closes its side', `GET /half HTTP/1.1\r\n${H}\r\n`],
  ['a cut body, then the client closes its side', `POST /p HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nabc`],
  ['a cut head, then the client closes its side', `GET /p HTTP/1.1\r\n${H}X-Cut`],
  ...SMUGGLING_SHAPES.map(([name, text]): [string, string] => [`smuggling: ${name}`, text]),
];

// Sent with the client's end of the connection closed right after.
const HALF_CLOSED = new Set(['a request, then the client closes its side', 'a cut body, then the client closes its side', 'a cut head, then the client closes its side']);

// A second request sent once the first answer arrived, for the cases that
// test a connection after its first request.
const FOLLOW_UP: Record<string, string> = {
  'two requests on one connection': `GET /2 HTTP/1.1\r\n${H}\r\n`,
  'unknown host with an unread body, then a request': `GET /after HTTP/1.1\r\n${H}\r\n`,
};

// node:http answers nothing to a request whose client closed its side
// (httpAllowHalfOpen is off): it is aborted.
const UNANSWERED = new Set(['a request, then the client closes its side']);

function normalize(text: string): string {
  return dechunk(text)
    .replace(/^(date): .*$/gim, '$1: <date>')
    .replace(/^(x-request-id): .*$/gim, '$1: <id>')
    .replace(/^(traceparent): .*$/gim, '$1: <trace>');
}

// A streamed chunked body is cut where the bytes happened to arrive (socket
// reads), in either engine: its chunks are joined into one for comparing;
// the bytes, their order and the trailers still have to match.
function dechunk(text: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const te = text.slice(at).search(/\r\ntransfer-encoding: chunked\r\n/i);
    if (te < 0) return out + text.slice(at);
    const bodyStart = text.indexOf('\r\n\r\n', at + te) + 4;
    if (bodyStart < 4) return out + text.slice(at);
    out += text.slice(at, bodyStart);
    let i = bodyStart;
    let data = '';
    for (;;) {
      const eol = text.indexOf('\r\n', i);
      if (eol < 0) return out + text.slice(bodyStart);
      const size = parseInt(text.slice(i, eol), 16);
      if (Number.isNaN(size)) return out + text.slice(bodyStart);
      i = eol + 2;
      if (size === 0) break;
      data += text.slice(i, i + size);
      i += size + 2;
    }
    const end = text.indexOf('\r\n\r\n', i - 2);
    const trailers = end < 0 ? text.slice(i) : text.slice(i, end + 4);
    out += `<${data.length} bytes chunked>${data}<end>${trailers}`;
    at = end < 0 ? text.length : end + 4;
  }
}

interface Side {
  gateway: Harness;
  instance: RecordingInstance;
}

async function exchange(side: Side, name: string, text: string): Promise<{ client: string; instance: string }> {
  const mark = side.instance.received().length;
  const follow = FOLLOW_UP[name];
  let client: string;
  if (HALF_CLOSED.has(name)) {
    client = await halfClosed(side.gateway.port, text);
  } else if (follow === undefined) {
    client = (await rawExchange(side.gateway.port, Buffer.from(text, 'latin1'), 8_000)).data;
  } else {
    client = await twoOnOneConnection(side.gateway.port, text, follow);
  }
  // What the instance got for a request whose client answer is complete.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { client: normalize(client), instance: normalize(side.instance.received(mark)) };
}

async function halfClosed(port: number, text: string): Promise<string> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(Buffer.from(text, 'latin1')));
    let data = '';
    const timer = setTimeout(() => socket.destroy(), 8_000);
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
  });
}

async function twoOnOneConnection(port: number, first: string, second: string): Promise<string> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let sent = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer in time; got ${JSON.stringify(data)}`));
    }, 8_000);
    socket.on('data', (d) => {
      data += d.toString('latin1');
      // The first answer is whole when its body (a JSON object or a text line) ended.
      if (!sent && /\r\n\r\n[\s\S]*(\}|\n)$/.test(data)) {
        sent = true;
        socket.write(Buffer.from(second, 'latin1'));
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
    socket.write(Buffer.from(first, 'latin1'));
  });
}

describe('fast HTTP/1.1 path against node:http', () => {
  const sides: Record<'node' | 'fast', Side> = {} as Record<'node' | 'fast', Side>;

  before(async () => {
    for (const engine of ['node', 'fast'] as const) {
      const instance = await RecordingInstance.start();
      const gateway = await startGateway([serviceDoc('echo'), instanceDoc('echo-1', 'echo', instance.port)], {
        http1Engine: engine,
        limits: { maxHeaderBytes: 8 * 1024, headersTimeoutMs: 2_000, requestTimeoutMs: 5_000, keepAliveTimeoutMs: 1_000 },
      });
      sides[engine] = { gateway, instance };
    }
  });
  after(async () => {
    for (const side of Object.values(sides)) {
      await side.gateway.stop();
      await side.instance.close();
    }
  });

  for (const [name, text] of CORPUS) {
    it(`answers ${name} as node:http does`, async () => {
      const [node, fast] = await Promise.all([exchange(sides.node, name, text), exchange(sides.fast, name, text)]);
      if (!UNANSWERED.has(name)) assert.notEqual(node.client, '', 'node:http answered');
      assert.equal(fast.client, node.client, 'what the client received');
      assert.equal(fast.instance, node.instance, 'what the instance received');
    });
  }

  it('lets no smuggled byte reach an instance', async () => {
    for (const [, text] of SMUGGLING_SHAPES) {
      const { instance } = await exchange(sides.fast, '', text);
      assert.equal(instance, '');
    }
  });
});
