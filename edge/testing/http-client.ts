// A bounded HTTP client for tests: one request to 127.0.0.1 through an
// undici Client (or a fresh connection), with the response read whole.
import { request as undiciRequest, type Dispatcher } from 'undici';

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

export async function get(
  port: number,
  path: string,
  options: { host?: string; method?: string; headers?: Record<string, string>; body?: string | Buffer; dispatcher?: Dispatcher; timeoutMs?: number } = {},
): Promise<TestResponse> {
  const res = await undiciRequest(`http://127.0.0.1:${port}${path}`, {
    method: (options.method ?? 'GET') as Dispatcher.HttpMethod,
    headers: { ...(options.host ? { host: options.host } : {}), ...options.headers },
    body: options.body,
    dispatcher: options.dispatcher,
    headersTimeout: options.timeoutMs ?? 10_000,
    bodyTimeout: options.timeoutMs ?? 10_000,
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers as Record<string, string | string[] | undefined>,
    text,
    json: <T>() => JSON.parse(text) as T,
  };
}
