import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { mock, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HealthChecker, type HealthCheckSpec, type HealthTarget } from './health-checker';
import type { ProbeResult } from './probes';

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

test('an HTTP instance turns healthy after healthyThreshold passes, and unhealthy once it stops answering', async () => {
  const instance = await startInstance();
  const { events, onChange } = recorder();
  const checker = new HealthChecker({ onChange, maxFirstCheckJitterMs: 10 });
  const check = httpCheck({ intervalMs: 100, timeoutMs: 80, healthyThreshold: 2, unhealthyThreshold: 3 });
  checker.sync([{ id: 'echo-1', address: '127.0.0.1', port: instance.port, check }]);
  try {
    await waitFor(() => events.length === 1, 30_000, 'healthy');
    assert.deepEqual(events.map((e) => [e.id, e.healthy]), [['echo-1', true]]);
    assert.ok(instance.arrivals.length >= 2, 'two passes before healthy');

    await closeServer(instance.server);
    await waitFor(() => events.length === 2, 30_000, 'unhealthy');
    assert.equal(events[1]!.healthy, false);
  } finally {
    checker.stop();
    await closeServer(instance.server).catch(() => undefined);
  }
});

// Checks on a mocked clock, through a probe that answers as `answer` says
// after `takesMs`: how thresholds and intervals add up, exactly.
function clockedChecker(answer: () => boolean, takesMs: number) {
  const { events, onChange } = recorder();
  const starts: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const probe = (_target: HealthTarget, signal: AbortSignal): Promise<ProbeResult> => {
    starts.push(Date.now());
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    return new Promise((resolve) => {
      const done = (result: ProbeResult) => {
        inFlight--;
        resolve(result);
      };
      const timer = setTimeout(() => done(answer() ? { ok: true } : { ok: false, reason: 'failed' }), takesMs);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        done({ ok: false, reason: 'aborted' });
      });
    });
  };
  const checker = new HealthChecker({ onChange, maxFirstCheckJitterMs: 0, probe });
  return { checker, events, starts, maxInFlight: () => maxInFlight };
}

// Moves the mocked clock on by `ms`, one millisecond at a time, letting the
// promises each timer settles run, and the timers they set for the same
// millisecond fire, before the next.
async function advance(ms: number): Promise<void> {
  const fireDue = async () => {
    for (let k = 0; k < 3; k++) {
      mock.timers.tick(0);
      for (let j = 0; j < 5; j++) await Promise.resolve();
    }
  };
  for (let i = 0; i < ms; i++) {
    await fireDue();
    mock.timers.tick(1);
    for (let j = 0; j < 5; j++) await Promise.resolve();
  }
  await fireDue();
}

test('on a mocked clock: healthy after healthyThreshold passes one interval apart, unhealthy after unhealthyThreshold failures', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  let up = true;
  const { checker, events, starts } = clockedChecker(() => up, 10);
  checker.sync([{ id: 'echo-1', address: '127.0.0.1', port: 1, check: httpCheck({ intervalMs: 100, timeoutMs: 80, healthyThreshold: 2, unhealthyThreshold: 3 }) }]);
  try {
    await advance(109);
    assert.equal(events.length, 0, 'one pass is not enough');
    await advance(1);
    assert.deepEqual(events, [{ id: 'echo-1', healthy: true, at: 110 }], 'the second pass, one interval after the first');
    // Stops answering at 205, while the check of 200 is on its way: it and
    // those of 300 and 400 fail; the third failure ends at 410.
    await advance(95);
    up = false;
    await advance(305);
    assert.equal(events.length, 2);
    assert.deepEqual(events[1], { id: 'echo-1', healthy: false, at: 410 });
    assert.deepEqual(starts.slice(0, 6), [0, 100, 200, 300, 400, 500]);
  } finally {
    checker.stop();
  }
});

test('on a mocked clock: a check that takes longer than the interval delays the next one, checks never overlap', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  const { checker, events, starts, maxInFlight } = clockedChecker(() => false, 100);
  // The timeout is longer than the interval: the next check must wait for the previous one to end.
  checker.sync([{ id: 'hang-1', address: '127.0.0.1', port: 1, check: httpCheck({ intervalMs: 30, timeoutMs: 100 }) }]);
  try {
    await advance(550);
    assert.equal(events.length, 0);
    assert.equal(maxInFlight(), 1, 'one check at a time');
    assert.deepEqual(starts, [0, 100, 200, 300, 400, 500]);
  } finally {
    checker.stop();
  }
});

test('an instance that accepts but never answers never becomes healthy', async () => {
  const instance = await startInstance();
  instance.mode.value = 'hang';
  const { events, onChange } = recorder();
  const checker = new HealthChecker({ onChange, maxFirstCheckJitterMs: 0 });
  // The timeout is longer than the interval: the next check must wait for the previous one to end.
  checker.sync([{ id: 'hang-1', address: '127.0.0.1', port: instance.port, check: httpCheck({ intervalMs: 30, timeoutMs: 100 }) }]);
  try {
    await waitFor(() => instance.arrivals.length >= 3, 30_000, 'three checks');
  } finally {
    checker.stop();
    await closeServer(instance.server);
  }
  assert.equal(events.length, 0);
});

test('a wrong status fails the check; the expected status passes it', async () => {
  const instance = await startInstance();
  instance.mode.value = 'status-503';
  const { events, onChange } = recorder();
  const checker = new HealthChecker({ onChange, maxFirstCheckJitterMs: 0 });
  checker.sync([{ id: 'echo-503', address: '127.0.0.1', port: instance.port, check: httpCheck() }]);
  try {
    await waitFor(() => instance.arrivals.length >= 4, 30_000, 'four checks');
    assert.equal(events.length, 0);

    // The same instance checked with expectedStatus 503 passes.
    checker.sync([{ id: 'echo-503', address: '127.0.0.1', port: instance.port, check: httpCheck({ expectedStatus: 503 }) }]);
    await waitFor(() => events.length === 1, 30_000, 'healthy with expectedStatus 503');
    assert.deepEqual(events.map((e) => e.healthy), [true]);

    // The instance turns bad: 200 is not 503.
    instance.mode.value = 'ok';
    await waitFor(() => events.length === 2, 30_000, 'unhealthy on status 200');
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
    await waitFor(() => events.length === 1, 30_000, 'healthy');
    await closeServer(server);
    await waitFor(() => events.length === 2, 30_000, 'unhealthy');
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
    await waitFor(() => events.length === 1, 30_000, 'healthy');
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
    await waitFor(() => events.length === 2, 30_000, 'both healthy');

    // Same spec again: nothing restarts, nothing is reported.
    checker.sync([target('a'), target('b')]);
    // b removed; a moved to another path: it stays healthy, no new event.
    checker.sync([target('a', '/ready')]);
    const seenBefore = instance.paths.length;
    await waitFor(() => instance.paths.slice(seenBefore).filter((p) => p === '/ready').length >= 3, 30_000, 'checks on /ready');
    // Requests in flight at the time of sync may still land on /healthz; after that only /ready.
    const later = instance.paths.slice(seenBefore + 2);
    assert.ok(later.every((p) => p === '/ready'), `paths after sync: ${later.join(' ')}`);
    assert.equal(events.length, 2);

    const atStop = instance.arrivals.length;
    checker.stop();
    await sleep(300);
    // The one check a may have had on its way still lands; no new one starts.
    assert.ok(instance.arrivals.length <= atStop + 1, `${instance.arrivals.length - atStop} checks after stop()`);
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
    await waitFor(() => events.length === 1, 30_000, 'healthy');
    instance.mode.value = 'hang';
    const checksBefore = instance.arrivals.length;
    await waitFor(() => events.length === 2, 30_000, 'unhealthy');
    assert.equal(events[1]!.healthy, false);
    assert.ok(instance.arrivals.length - checksBefore >= 2, 'two checks timed out');
  } finally {
    checker.stop();
    await closeServer(instance.server);
  }
});
