import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HealthChecker, type HealthCheckSpec, type HealthTarget } from './health-checker';

type Mode = 'ok' | 'status-503' | 'hang';

// A local instance whose /healthz behaves as `mode` says; counts the checks it sees.
async function startInstance(host = '127.0.0.1'): Promise<{ server: HttpServer; port: number; mode: { value: Mode }; arrivals: number[]; paths: string[] }> {
  const mode = { value: 'ok' as Mode };
  const arrivals: number[] = [];
  const paths: string[] = [];
  const server = createHttpServer((req, res) => {
    arrivals.push(Date.now());
    paths.push(req.url ?? '');
    if (mode.value === 'hang') return;
    res.writeHead(mode.value === 'ok' ? 200 : 503).end('body to discard');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port, mode, arrivals, paths };
}

async function closeServer(server: HttpServer | TcpServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

function httpCheck(overrides: Partial<HealthCheckSpec> = {}): HealthCheckSpec {
  return { type: 'http', path: '/healthz', expectedStatus: 200, intervalMs: 50, timeoutMs: 40, healthyThreshold: 1, unhealthyThreshold: 2, ...overrides };
}

function recorder(): { events: { id: string; healthy: boolean; at: number }[]; onChange: (id: string, healthy: boolean) => void } {
  const events: { id: string; healthy: boolean; at: number }[] = [];
  return { events, onChange: (id, healthy) => events.push({ id, healthy, at: Date.now() }) };
}

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(5);
  }
}

test('an HTTP instance turns healthy after healthyThreshold passes, and unhealthy within about interval x threshold once it stops answering', async () => {
  const instance = await startInstance();
  const { events, onChange } = recorder();
  const checker = new HealthChecker({ onChange, maxFirstCheckJitterMs: 10 });
  const check = httpCheck({ intervalMs: 100, timeoutMs: 80, healthyThreshold: 2, unhealthyThreshold: 3 });
  const started = Date.now();
  checker.sync([{ id: 'echo-1', address: '127.0.0.1', port: instance.port, check }]);
  try {
    await waitFor(() => events.length === 1, 2000, 'healthy');
    const toHealthy = events[0]!.at - started;
    assert.deepEqual(events.map((e) => [e.id, e.healthy]), [['echo-1', true]]);
    // Two passes need one interval between them.
    assert.ok(toHealthy >= 95 && toHealthy < 800, `healthy after ${toHealthy}ms`);
    assert.ok(instance.arrivals.length >= 2);

    const stoppedAt = Date.now();
    await closeServer(instance.server);
    await waitFor(() => events.length === 2, 3000, 'unhealthy');
    const toUnhealthy = events[1]!.at - stoppedAt;
    assert.equal(events[1]!.healthy, false);
    // Three failures in a row: at least two intervals, at most three plus slack.
    assert.ok(toUnhealthy >= 180 && toUnhealthy < 300 + 700, `unhealthy after ${toUnhealthy}ms`);
  } finally {
    checker.stop();
    await closeServer(instance.server).catch(() => undefined);
  }
});

test('an instance that accepts but never answers never becomes healthy, and checks never overlap', async () => {
  const instance = await startInstance();
  instance.mode.value = 'hang';
  const { events, onChange } = recorder();
  const checker = new HealthChecker({ onChange, maxFirstCheckJitterMs: 0 });
  // The timeout is longer than the interval: the next check must wait for the previous one to end.
  checker.sync([{ id: 'hang-1', address: '127.0.0.1', port: instance.port, check: httpCheck({ intervalMs: 30, timeoutMs: 100 }) }]);
  await sleep(550);
  checker.stop();
  await closeServer(instance.server);
  assert.equal(events.length, 0);
  assert.ok(instance.arrivals.length >= 3, `${instance.arrivals.length} checks`);
  for (let i = 1; i < instance.arrivals.length; i++) {
    const gap = instance.arrivals[i]! - instance.arrivals[i - 1]!;
    assert.ok(gap >= 95, `checks ${i - 1} and ${i} overlap: ${gap}ms apart`);
  }
});

test('a wrong status fails the check; the expected status passes it', async () => {
  const instance = await startInstance();
  instance.mode.value = 'status-503';
  const { events, onChange } = recorder();
  const checker = new HealthChecker({ onChange, maxFirstCheckJitterMs: 0 });
  checker.sync([{ id: 'echo-503', address: '127.0.0.1', port: instance.port, check: httpCheck() }]);
  try {
    await waitFor(() => instance.arrivals.length >= 4, 2000, 'four checks');
    assert.equal(events.length, 0);

    // The same instance checked with expectedStatus 503 passes.
    checker.sync([{ id: 'echo-503', address: '127.0.0.1', port: instance.port, check: httpCheck({ expectedStatus: 503 }) }]);
    await waitFor(() => events.length === 1, 2000, 'healthy with expectedStatus 503');
    assert.deepEqual(events.map((e) => e.healthy), [true]);

    // The instance turns bad: 200 is not 503.
    instance.mode.value = 'ok';
    await waitFor(() => events.length === 2, 2000, 'unhealthy on status 200');
    assert.equal(events[1]!.healthy, false);
  } finally {
    checker.stop();
    await closeServer(instance.server);
  }
});

test('TCP checks pass on connect and fail when nothing listens', async () => {
  const server = createTcpServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const { events, onChange } = recorder();
  const checker = new HealthChecker({ onChange, maxFirstCheckJitterMs: 0 });
  checker.sync([{ id: 'db-1', address: '127.0.0.1', port, check: httpCheck({ type: 'tcp' }) }]);
  try {
    await waitFor(() => events.length === 1, 2000, 'healthy');
    await closeServer(server);
    await waitFor(() => events.length === 2, 2000, 'unhealthy');
    assert.deepEqual(events.map((e) => [e.id, e.healthy]), [['db-1', true], ['db-1', false]]);
  } finally {
    checker.stop();
  }
});

test('IPv6 instances are checked (address in brackets)', async () => {
  const instance = await startInstance('::1').catch(() => undefined);
  if (!instance) return; // no IPv6 loopback on this host
  const { events, onChange } = recorder();
  const checker = new HealthChecker({ onChange, maxFirstCheckJitterMs: 0 });
  checker.sync([{ id: 'v6-1', address: '::1', port: instance.port, check: httpCheck() }]);
  try {
    await waitFor(() => events.length === 1, 2000, 'healthy');
    assert.equal(instance.paths[0], '/healthz');
  } finally {
    checker.stop();
    await closeServer(instance.server);
  }
});

test('sync stops removed instances, restarts changed ones keeping their health, and stop() ends all', async () => {
  const instance = await startInstance();
  const { events, onChange } = recorder();
  const checker = new HealthChecker({ onChange, maxFirstCheckJitterMs: 0 });
  const target = (id: string, path = '/healthz'): HealthTarget => ({ id, address: '127.0.0.1', port: instance.port, check: httpCheck({ path }) });
  checker.sync([target('a'), target('b')]);
  try {
    await waitFor(() => events.length === 2, 2000, 'both healthy');

    // Same spec again: nothing restarts, nothing is reported.
    checker.sync([target('a'), target('b')]);
    // b removed; a moved to another path: it stays healthy, no new event.
    checker.sync([target('a', '/ready')]);
    const seenBefore = instance.paths.length;
    await waitFor(() => instance.paths.slice(seenBefore).filter((p) => p === '/ready').length >= 3, 2000, 'checks on /ready');
    // Requests in flight at the time of sync may still land on /healthz; after that only /ready.
    const later = instance.paths.slice(seenBefore + 2);
    assert.ok(later.every((p) => p === '/ready'), `paths after sync: ${later.join(' ')}`);
    assert.equal(events.length, 2);

    checker.stop();
    await sleep(30);
    const afterStop = instance.arrivals.length;
    await sleep(200);
    assert.equal(instance.arrivals.length, afterStop, 'no checks after stop()');
  } finally {
    checker.stop();
    await closeServer(instance.server);
  }
});

test('an instance that starts hanging turns unhealthy through check timeouts', async () => {
  const instance = await startInstance();
  const { events, onChange } = recorder();
  const checker = new HealthChecker({ onChange, maxFirstCheckJitterMs: 0 });
  checker.sync([{ id: 'slow-1', address: '127.0.0.1', port: instance.port, check: httpCheck({ intervalMs: 100, timeoutMs: 50, unhealthyThreshold: 2 }) }]);
  try {
    await waitFor(() => events.length === 1, 2000, 'healthy');
    const hungAt = Date.now();
    instance.mode.value = 'hang';
    await waitFor(() => events.length === 2, 3000, 'unhealthy');
    const toUnhealthy = events[1]!.at - hungAt;
    assert.equal(events[1]!.healthy, false);
    // Two timed-out checks: one interval plus one timeout at least, two intervals plus a timeout at most, plus slack.
    assert.ok(toUnhealthy >= 140 && toUnhealthy < 250 + 700, `unhealthy after ${toUnhealthy}ms`);
  } finally {
    checker.stop();
    await closeServer(instance.server);
  }
});
