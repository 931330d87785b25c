// The settings in force for one service, resolved once per view into plain
// numbers: its ResiliencePolicy (the one naming the service, else a "*" one,
// else the schema's defaults), its Service limits (or the defaults when a
// service has instances but no Service resource) and the protocol its
// instances speak.
import { defaultHttpPort, speaksHttp2 } from './service-ports';
import {
  parseDuration,
  validateDocument,
  type ResiliencePolicyResource,
  type ResiliencePolicySpec,
  type ServiceResource,
  type ServiceSpec,
} from '../../lib/resources';
import type { OutlierConfig } from '../balancer/outlier-detector';
import type { BreakerConfig } from '../resilience/circuit-breaker';
import type { RetryOn } from '../resilience/retry-policy';
import { requestTimeoutMs } from '../resilience/timeouts';

export interface EffectivePolicy {
  // The ResiliencePolicy in force, or undefined for the defaults.
  policyName: string | undefined;
  attempts: number;
  budgetPercent: number;
  // 0: none (the request timeout bounds every try).
  perTryTimeoutMs: number;
  retryOn: RetryOn;
  // min(Service limits.requestTimeout, policy timeouts.request).
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  // Longest pause in a response body before the try is failed.
  idleTimeoutMs: number;
  breaker: BreakerConfig;
  outlier: OutlierConfig;
  softInFlightPerRegion: number;
  maxRequestBodyBytes: number;
  // The instances speak HTTP/2 (h2c): the Service's first port has protocol
  // grpc or http2. An Instance registers one port, so the first port of the
  // Service is the one its instances serve.
  http2: boolean;
}

let defaultPolicySpec: ResiliencePolicySpec | undefined;
let defaultServiceSpec: ServiceSpec | undefined;

// The schema's own defaults, so they are written in one place only.
function defaults(): { policy: ResiliencePolicySpec; service: ServiceSpec } {
  if (defaultPolicySpec === undefined || defaultServiceSpec === undefined) {
    const policy = validateDocument({ apiVersion: 'meridian.dev/v1', kind: 'ResiliencePolicy', metadata: { name: 'default' }, spec: { service: '*' } });
    const service = validateDocument({ apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'default' }, spec: {} });
    if (!policy.ok || policy.document.kind !== 'ResiliencePolicy' || !service.ok || service.document.kind !== 'Service') {
      throw new Error('lib/resources refused the default ResiliencePolicy or Service');
    }
    defaultPolicySpec = policy.document.spec;
    defaultServiceSpec = service.document.spec;
  }
  return { policy: defaultPolicySpec, service: defaultServiceSpec };
}

export function findPolicy(policies: Iterable<ResiliencePolicyResource>, service: string): ResiliencePolicyResource | undefined {
  let wildcard: ResiliencePolicyResource | undefined;
  let exact: ResiliencePolicyResource | undefined;
  for (const p of policies) {
    if (p.spec.service === service) {
      if (exact === undefined || p.metadata.name < exact.metadata.name) exact = p;
    } else if (p.spec.service === '*') {
      if (wildcard === undefined || p.metadata.name < wildcard.metadata.name) wildcard = p;
    }
  }
  return exact ?? wildcard;
}

export function resolvePolicy(
  policies: Iterable<ResiliencePolicyResource>,
  service: ServiceResource | undefined,
  serviceName: string,
): EffectivePolicy {
  const d = defaults();
  const policy = findPolicy(policies, serviceName);
  const spec = policy?.spec ?? d.policy;
  const limits = service?.spec.limits ?? d.service.limits;
  const on = new Set(spec.retries.on);
  return {
    policyName: policy?.metadata.name,
    attempts: spec.retries.attempts,
    budgetPercent: spec.retries.budgetPercent,
    perTryTimeoutMs: spec.retries.perTryTimeout !== undefined ? parseDuration(spec.retries.perTryTimeout) : 0,
    retryOn: { connectFailure: on.has('connect-failure'), reset: on.has('reset'), status502: on.has('502'), status503: on.has('503') },
    requestTimeoutMs: requestTimeoutMs(parseDuration(limits.requestTimeout), parseDuration(spec.timeouts.request)),
    connectTimeoutMs: parseDuration(spec.timeouts.connect),
    idleTimeoutMs: parseDuration(spec.timeouts.idle),
    breaker: {
      maxRequests: spec.circuitBreaker.maxRequests,
      consecutiveFailures: spec.circuitBreaker.consecutiveFailures,
      openForMs: parseDuration(spec.circuitBreaker.openFor),
    },
    outlier: {
      consecutiveFailures: spec.outlierDetection.consecutiveFailures,
      baseEjectionMs: parseDuration(spec.outlierDetection.baseEjectionTime),
      maxEjectionPercent: spec.outlierDetection.maxEjectionPercent,
    },
    softInFlightPerRegion: limits.softInFlightPerRegion,
    maxRequestBodyBytes: limits.maxRequestBodyBytes,
    http2: speaksHttp2(defaultHttpPort(service)?.protocol),
  };
}
