import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accept, assertRefused, refuse, resource } from '../validation-assertions';

const service = (spec: unknown) => resource('Service', spec, 'echo');

describe('Service', () => {
  it('fills every default into an empty spec', () => {
    assert.deepEqual(accept(service({})).spec, {
      hosts: [],
      ports: [{ name: 'http', port: 80, protocol: 'http' }],
      routes: [{ pathPrefix: '/', stripPrefix: false }],
      healthCheck: {
        type: 'http',
        path: '/healthz',
        expectedStatus: 200,
        interval: '1s',
        timeout: '500ms',
        healthyThreshold: 1,
        unhealthyThreshold: 2,
      },
      limits: { softInFlightPerRegion: 1000, maxRequestBodyBytes: 10485760, requestTimeout: '30s' },
    });
  });

  it('keeps what is given and fills the rest', () => {
    const spec = accept(
      service({
        hosts: ['echo.example.com'],
        ports: [{ name: 'grpc', port: 9000, protocol: 'grpc' }, { name: 'web', port: 8080 }],
        routes: [{ pathPrefix: '/api', stripPrefix: true }, { pathPrefix: '/' }],
        healthCheck: { path: '/ready', interval: '5s' },
        limits: { requestTimeout: '1m' },
      }),
    ).spec;
    assert.deepEqual(spec, {
      hosts: ['echo.example.com'],
      ports: [
        { name: 'grpc', port: 9000, protocol: 'grpc' },
        { name: 'web', port: 8080, protocol: 'http' },
      ],
      routes: [
        { pathPrefix: '/api', stripPrefix: true },
        { pathPrefix: '/', stripPrefix: false },
      ],
      healthCheck: {
        type: 'http',
        path: '/ready',
        expectedStatus: 200,
        interval: '5s',
        timeout: '500ms',
        healthyThreshold: 1,
        unhealthyThreshold: 2,
      },
      limits: { softInFlightPerRegion: 1000, maxRequestBodyBytes: 10485760, requestTimeout: '1m' },
    });
  });

  it('a tcp health check has no path or expected status', () => {
    assert.deepEqual(accept(service({ healthCheck: { type: 'tcp' } })).spec.healthCheck, {
      type: 'tcp',
      interval: '1s',
      timeout: '500ms',
      healthyThreshold: 1,
      unhealthyThreshold: 2,
    });
    assertRefused(service({ healthCheck: { type: 'tcp', path: '/healthz' } }), 'spec.healthCheck.path', 'applies only to http health checks (type is tcp)');
    assertRefused(service({ healthCheck: { type: 'tcp', expectedStatus: 200 } }), 'spec.healthCheck.expectedStatus', 'applies only to http health checks (type is tcp)');
  });

  it('refuses a health check timeout longer than its interval', () => {
    assertRefused(service({ healthCheck: { interval: '1s', timeout: '1500ms' } }), 'spec.healthCheck.timeout', 'must not be more than interval (1s), got 1500ms');
    assertRefused(service({ healthCheck: { interval: '250ms' } }), 'spec.healthCheck.timeout', 'must not be more than interval (250ms), got 500ms');
    accept(service({ healthCheck: { interval: '2s', timeout: '2s' } }));
  });

  it('checks the health check fields', () => {
    assertRefused(service({ healthCheck: { type: 'udp' } }), 'spec.healthCheck.type', 'must be one of "http", "tcp", got "udp"');
    assertRefused(service({ healthCheck: { path: 'healthz' } }), 'spec.healthCheck.path', "must start with '/'");
    assertRefused(service({ healthCheck: { expectedStatus: 99 } }), 'spec.healthCheck.expectedStatus', 'must be an integer from 100 to 599');
    assertRefused(service({ healthCheck: { interval: 'soon' } }), 'spec.healthCheck.interval', /^must be a duration: a number followed by ms, s, m or h \(e\.g\. 250ms, 5s, 1m, 2h\), got "soon"$/);
    assertRefused(service({ healthCheck: { interval: 5 } }), 'spec.healthCheck.interval', 'must be a string, got number');
    assertRefused(service({ healthCheck: { healthyThreshold: 0 } }), 'spec.healthCheck.healthyThreshold', 'must be an integer from 1 to 100');
    assertRefused(service({ healthCheck: { unhealthyThreshold: 1.5 } }), 'spec.healthCheck.unhealthyThreshold', 'must be an integer from 1 to 100');
  });

  it('checks ports', () => {
    assertRefused(service({ ports: [{ name: 'http', port: 0 }] }), 'spec.ports[0].port', 'must be an integer from 1 to 65535');
    assertRefused(service({ ports: [{ name: 'http', port: 65536 }] }), 'spec.ports[0].port', 'must be an integer from 1 to 65535');
    assertRefused(service({ ports: [{ name: 'http', port: 80.5 }] }), 'spec.ports[0].port', 'must be an integer from 1 to 65535');
    assertRefused(service({ ports: [{ name: 'http', port: 80, protocol: 'udp' }] }), 'spec.ports[0].protocol', 'must be one of "http", "http2", "grpc", "tcp", got "udp"');
    assertRefused(service({ ports: [{ port: 80 }] }), 'spec.ports[0].name', 'required');
    assertRefused(service({ ports: [] }), 'spec.ports', 'needs at least one port');
    assertRefused(service({ ports: { name: 'http', port: 80 } }), 'spec.ports', 'must be a list, got an object');
    assertRefused(service({ ports: [{ name: 'web', port: 80, public: true }] }), 'spec.ports[0].public', 'applies only to tcp ports (protocol is http): an HTTP service is public through spec.hosts');
    assertRefused(service({ ports: [{ name: 'db', port: 5432, protocol: 'tcp', public: 'yes' }] }), 'spec.ports[0].public', 'must be a boolean (true or false), got string');
  });

  it('checks hosts and routes', () => {
    assertRefused(service({ hosts: ['Echo.example.com'] }), 'spec.hosts[0]', /^must be a host name in lower case/);
    assertRefused(service({ hosts: ['echo.example.com:443'] }), 'spec.hosts[0]', /^must be a host name/);
    assertRefused(service({ hosts: 'echo.example.com' }), 'spec.hosts', 'must be a list, got string');
    assertRefused(service({ routes: [{ pathPrefix: 'api' }] }), 'spec.routes[0].pathPrefix', "must start with '/'");
    assertRefused(service({ routes: [] }), 'spec.routes', 'needs at least one route');
  });

  it('checks limits', () => {
    assertRefused(service({ limits: { softInFlightPerRegion: 0 } }), 'spec.limits.softInFlightPerRegion', 'must be an integer from 1 to 1000000');
    assertRefused(service({ limits: { maxRequestBodyBytes: -1 } }), 'spec.limits.maxRequestBodyBytes', 'must be an integer from 0 to 17179869184');
    assertRefused(service({ limits: { requestTimeout: '30' } }), 'spec.limits.requestTimeout', /^must be a duration/);
  });

  it('bounds the request timeout: 1ms to 24h', () => {
    accept(service({ limits: { requestTimeout: '24h' } }));
    accept(service({ limits: { requestTimeout: '1ms' } }));
    assertRefused(service({ limits: { requestTimeout: '600h' } }), 'spec.limits.requestTimeout', 'must be at most 24h, got 600h');
    assertRefused(service({ limits: { requestTimeout: '1441m' } }), 'spec.limits.requestTimeout', 'must be at most 24h, got 1441m');
    assertRefused(service({ limits: { requestTimeout: '0ms' } }), 'spec.limits.requestTimeout', 'must be at least 1ms, got 0ms');
    assertRefused(service({ limits: { requestTimeout: '0.5ms' } }), 'spec.limits.requestTimeout', 'must be at least 1ms, got 0.5ms');
  });

  it('bounds the health check interval (100ms to 1h) and timeout (1ms to 1h)', () => {
    accept(service({ healthCheck: { interval: '100ms', timeout: '100ms' } }));
    accept(service({ healthCheck: { interval: '1h', timeout: '1h' } }));
    accept(service({ healthCheck: { interval: '1s', timeout: '1ms' } }));
    // Only the interval is named: the timeout is not compared with an interval out of bounds.
    assert.deepEqual(
      refuse(service({ healthCheck: { interval: '0ms' } })).map((e) => [e.path, e.message]),
      [['spec.healthCheck.interval', 'must be at least 100ms, got 0ms']],
    );
    assertRefused(service({ healthCheck: { interval: '99ms', timeout: '50ms' } }), 'spec.healthCheck.interval', 'must be at least 100ms, got 99ms');
    assertRefused(service({ healthCheck: { interval: '61m' } }), 'spec.healthCheck.interval', 'must be at most 1h, got 61m');
    assertRefused(service({ healthCheck: { interval: '2h', timeout: '2h' } }), 'spec.healthCheck.timeout', 'must be at most 1h, got 2h');
    assertRefused(service({ healthCheck: { timeout: '0s' } }), 'spec.healthCheck.timeout', 'must be at least 1ms, got 0s');
  });

  it('bounds the health check thresholds at 100', () => {
    accept(service({ healthCheck: { healthyThreshold: 100, unhealthyThreshold: 100 } }));
    assertRefused(service({ healthCheck: { healthyThreshold: 101 } }), 'spec.healthCheck.healthyThreshold', 'must be an integer from 1 to 100');
    assertRefused(service({ healthCheck: { unhealthyThreshold: 101 } }), 'spec.healthCheck.unhealthyThreshold', 'must be an integer from 1 to 100');
  });

  it('bounds the in-flight and body limits', () => {
    accept(service({ limits: { softInFlightPerRegion: 1_000_000, maxRequestBodyBytes: 16 * 1024 ** 3 } }));
    assertRefused(service({ limits: { softInFlightPerRegion: 1_000_001 } }), 'spec.limits.softInFlightPerRegion', 'must be an integer from 1 to 1000000');
    assertRefused(service({ limits: { maxRequestBodyBytes: 16 * 1024 ** 3 + 1 } }), 'spec.limits.maxRequestBodyBytes', 'must be an integer from 0 to 17179869184');
  });

  it('bounds hosts, ports and routes in number', () => {
    const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${i}.example.com`);
    const ports = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `p${i}`, port: 8000 + i }));
    const routes = (n: number) => Array.from({ length: n }, (_, i) => ({ pathPrefix: `/r${i}` }));
    accept(service({ hosts: hosts(100), ports: ports(32), routes: routes(100) }));
    assertRefused(service({ hosts: hosts(101) }), 'spec.hosts', 'must list at most 100 hosts');
    assertRefused(service({ ports: ports(33) }), 'spec.ports', 'must list at most 32 ports');
    assertRefused(service({ routes: routes(101) }), 'spec.routes', 'must list at most 100 routes');
  });

  it('bounds a host name at 253 characters and a path at 1024', () => {
    // 3 labels of 63 and one of 61, with dots: 253 characters.
    const longest = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)].join('.');
    assert.equal(longest.length, 253);
    accept(service({ hosts: [longest] }));
    assertRefused(service({ hosts: [`${longest}e`] }), 'spec.hosts[0]', 'must be at most 253 characters, got 254');
    const path = `/${'p'.repeat(1023)}`;
    accept(service({ routes: [{ pathPrefix: path }], healthCheck: { path } }));
    assertRefused(service({ routes: [{ pathPrefix: `${path}q` }] }), 'spec.routes[0].pathPrefix', 'must be at most 1024 characters');
    assertRefused(service({ healthCheck: { path: `${path}q` } }), 'spec.healthCheck.path', 'must be at most 1024 characters');
  });

  it('checks the whole health check even with an unknown or failed field, so one answer names every problem', () => {
    const errors = refuse(service({ healthCheck: { type: 'tcp', path: 'healthz', interval: '1s', timeout: '2s', intervall: '1s' } }));
    assert.deepEqual(errors.map((e) => [e.path, e.message]), [
      ['spec.healthCheck.path', "must start with '/'"],
      ['spec.healthCheck.intervall', "unknown field 'intervall'"],
      ['spec.healthCheck.path', 'applies only to http health checks (type is tcp)'],
      ['spec.healthCheck.timeout', 'must not be more than interval (1s), got 2s'],
    ]);
  });

  it('gives a value of the wrong type one message, not a length problem too', () => {
    assert.deepEqual(refuse(service({ ports: '' })).map((e) => [e.path, e.message]), [['spec.ports', 'must be a list, got string']]);
  });

  it('refuses an infinite port (YAML .inf) with the range message', () => {
    assertRefused(service({ ports: [{ name: 'http', port: Infinity }] }), 'spec.ports[0].port', 'must be an integer from 1 to 65535');
  });

  it('names an unknown field in the spec', () => {
    const errors = refuse(service({ healthcheck: {} }));
    assert.deepEqual(errors.map((e) => [e.path, e.message]), [['spec.healthcheck', "unknown field 'healthcheck'"]]);
  });
});
