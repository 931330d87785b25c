// A gRPC test instance (h2c, @grpc/grpc-js) of echo.proto: unary, server,
// client and bidi streaming, errors on request, slow answers; and a client
// of it that names the service by :authority, as a mesh client does.
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

// The .proto is read from the source tree (tsc does not copy it to dist/).
const PROTO = path.resolve(__dirname, '..', '..', '..', 'edge', 'testing', 'echo.proto');

export interface EchoRequest {
  text?: string;
  sleep_ms?: number;
  fail_code?: number;
}

export interface EchoReply {
  text: string;
  instance: string;
  metadata: Record<string, string>;
}

type ServiceClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;
type ClientConstructor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => ServiceClient;

let loaded: { service: grpc.ServiceDefinition; Client: ClientConstructor } | undefined;

function load(): { service: grpc.ServiceDefinition; Client: ClientConstructor } {
  if (loaded === undefined) {
    const definition = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as { meridian: { test: { Echo: ClientConstructor & { service: grpc.ServiceDefinition } } } };
    loaded = { service: pkg.meridian.test.Echo.service, Client: pkg.meridian.test.Echo };
  }
  return loaded;
}

function metadataOf(call: { metadata: grpc.Metadata }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(call.metadata.getMap())) out[k] = String(v);
  return out;
}

export class GrpcEcho {
  port = 0;
  // Calls the server saw cancelled by the client (deadline, cancel).
  cancelled = 0;
  calls = 0;
  private readonly server = new grpc.Server();

  constructor(readonly name: string) {
    const reply = (text: string, call: { metadata: grpc.Metadata }): EchoReply => ({ text, instance: name, metadata: metadataOf(call) });
    const trailer = () => {
      const m = new grpc.Metadata();
      m.set('x-echo-trailer', name);
      return m;
    };
    this.server.addService(load().service, {
      Say: (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) => {
        this.calls++;
        call.on('cancelled', () => this.cancelled++);
        const r = call.request;
        const answer = () => {
          if (r.fail_code) cb({ code: r.fail_code, details: r.text ?? '', metadata: trailer() });
          else cb(null, reply(r.text ?? '', call), trailer());
        };
        if (r.sleep_ms) setTimeout(answer, r.sleep_ms);
        else answer();
      },
      Count: (call: grpc.ServerWritableStream<{ n: number }, EchoReply>) => {
        this.calls++;
        for (let i = 1; i <= call.request.n; i++) call.write(reply(String(i), call));
        call.end(trailer());
      },
      Collect: (call: grpc.ServerReadableStream<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) => {
        this.calls++;
        const texts: string[] = [];
        call.on('data', (m: EchoRequest) => texts.push(m.text ?? ''));
        call.on('end', () => cb(null, reply(texts.join(','), call), trailer()));
      },
      Chat: (call: grpc.ServerDuplexStream<EchoRequest, EchoReply>) => {
        this.calls++;
        call.on('data', (m: EchoRequest) => call.write(reply(`echo:${m.text}`, call)));
        call.on('end', () => call.end(trailer()));
      },
    });
  }

  static async start(name: string): Promise<GrpcEcho> {
    const s = new GrpcEcho(name);
    s.port = await new Promise<number>((resolve, reject) =>
      s.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    return s;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.forceShutdown();
      resolve();
    });
  }
}

export interface EchoClientOptions {
  // :authority, the name the gateway routes by.
  authority: string;
  // TLS to the gateway's HTTPS listener, trusting this certificate.
  ca?: Buffer;
}

// A client of the Echo service at 127.0.0.1:port.
export function echoClient(port: number, options: EchoClientOptions): ServiceClient {
  const credentials = options.ca ? grpc.credentials.createSsl(options.ca) : grpc.credentials.createInsecure();
  const channelOptions: grpc.ChannelOptions = { 'grpc.default_authority': options.authority };
  if (options.ca) channelOptions['grpc.ssl_target_name_override'] = options.authority;
  return new (load().Client)(`127.0.0.1:${port}`, credentials, channelOptions);
}

// The client's calls as promises.
export function say(client: ServiceClient, request: EchoRequest, deadlineMs = 5_000): Promise<{ reply: EchoReply; trailers: grpc.Metadata; headers: grpc.Metadata }> {
  return new Promise((resolve, reject) => {
    let headers = new grpc.Metadata();
    let answer: EchoReply | undefined;
    // The reply comes before the status (and its trailers): wait for both.
    const call = client.Say(request, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, reply: EchoReply) => {
      if (err) reject(err);
      else answer = reply;
    }) as grpc.ClientUnaryCall;
    call.on('metadata', (m: grpc.Metadata) => (headers = m));
    call.on('status', (s: grpc.StatusObject) => {
      if (s.code === grpc.status.OK) setImmediate(() => resolve({ reply: answer!, trailers: s.metadata, headers }));
    });
  });
}

export function count(client: ServiceClient, n: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const out: string[] = [];
    const call = client.Count({ n }, { deadline: Date.now() + 5_000 }) as grpc.ClientReadableStream<EchoReply>;
    call.on('data', (r: EchoReply) => out.push(r.text));
    call.on('error', reject);
    call.on('end', () => resolve(out));
  });
}

export function collect(client: ServiceClient, texts: string[]): Promise<EchoReply> {
  return new Promise((resolve, reject) => {
    const call = client.Collect({ deadline: Date.now() + 5_000 }, (err: grpc.ServiceError | null, reply: EchoReply) => (err ? reject(err) : resolve(reply))) as grpc.ClientWritableStream<EchoRequest>;
    for (const text of texts) call.write({ text });
    call.end();
  });
}

// Sends each text only after the answer to the previous one came back: a
// proxy that waits for the whole request body before forwarding would hang.
export function chat(client: ServiceClient, texts: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const out: string[] = [];
    const call = client.Chat({ deadline: Date.now() + 5_000 }) as grpc.ClientDuplexStream<EchoRequest, EchoReply>;
    let i = 0;
    call.on('data', (r: EchoReply) => {
      out.push(r.text);
      if (++i < texts.length) call.write({ text: texts[i] });
      else call.end();
    });
    call.on('error', reject);
    call.on('end', () => resolve(out));
    call.write({ text: texts[0] });
  });
}
