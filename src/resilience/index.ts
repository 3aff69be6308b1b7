/** Fault tolerance (the original's CircuitBreaker, RetryPolicy, HealthMonitor, Executor) and its events. */
import { delay, executeBatch, executeWithCircuitBreaker, executeWithProtection, executeWithRetry, executeWithTimeout } from './executor.js';

export { CircuitBreaker, CIRCUIT_BREAKER_DEFAULTS, type CircuitBreakerOptions, type CircuitBreakerStats, type CircuitState } from './circuit-breaker.js';
export { RetryPolicy, RETRY_POLICY_DEFAULTS, RETRIABLE_KIND_CODES, type RetryPolicyOptions, type RetriableErrors, type RetriableKind } from './retry-policy.js';
export { HealthMonitor, HEALTH_MONITOR_DEFAULTS, WORKER_UNHEALTHY_CRASHES, type HealthMonitorOptions, type HealthStats, type WorkerHealth, type CrashSource } from './health-monitor.js';
export { PoolCircuit, isPoolFailure, POOL_FAILURE_CODES, type PoolCircuitConfig } from './pool-circuit.js';
export {
  EXECUTE_WITH_RETRY_DEFAULTS,
  executeBatch,
  executeWithCircuitBreaker,
  executeWithProtection,
  executeWithRetry,
  executeWithTimeout,
  type BatchOptions,
  type BatchResult,
  type RetryOptions,
  type TimeoutOptions,
  type Work,
} from './executor.js';
export { onResilienceEvent, RESILIENCE_EVENTS, type ResilienceEventMap, type ResilienceEventName, type ResilienceListener, type AnyResilienceListener } from './events.js';

/**
 * The helpers under the original's module name.
 * @example await Executor.executeWithRetry((signal) => sp.execute('fetch', {}, { signal }), { maxAttempts: 3 });
 */
export const Executor = { executeWithTimeout, executeWithRetry, executeWithCircuitBreaker, executeWithProtection, executeBatch, delay } as const;
