/** The instance's data-plane config (`zeroCopy`, `maxPayloadBytes`, `serialization`) as transport options and worker env. */
import type { PayloadOptions } from './codec.js';
import { arrowModule } from './arrow.js';
import { shmAvailable, shmPrefix } from './shm.js';

/** The config keys the data plane reads (all defaulted by the schema). */
export interface DataPlaneConfig {
  /** @default { enabled: false, thresholdBytes: 1048576 } */
  zeroCopy: { enabled: boolean; thresholdBytes: number };
  /** @default 268435456 */
  maxPayloadBytes: number;
  /** @default 'graceful' */
  serialization: 'graceful' | 'repr' | 'strict';
}

/** Whether zero-copy applies: asked for, and `/dev/shm` exists (else everything goes inline). */
function zeroCopyOn(config: DataPlaneConfig): boolean {
  return config.zeroCopy.enabled && shmAvailable();
}

/**
 * What Python needs to know (docs/protocol.md): the payload limit, the serialization policy,
 * whether the host has apache-arrow (once `loadArrow()` settled; without it Python refuses to send
 * Arrow tables, so the call fails with `arrow_unavailable` instead of arriving as bytes) and, with
 * zero-copy on, the threshold and the run's shm name prefix.
 */
export function dataPlaneEnv(config: DataPlaneConfig | undefined, runId: string): Record<string, string> {
  if (!config) return {};
  return {
    SNAKEPIT_MAX_PAYLOAD_BYTES: String(config.maxPayloadBytes),
    SNAKEPIT_SERIALIZATION: config.serialization,
    ...(arrowModule() === undefined ? {} : { SNAKEPIT_HOST_ARROW: arrowModule() ? '1' : '0' }),
    ...(zeroCopyOn(config) ? { SNAKEPIT_ZERO_COPY_THRESHOLD: String(config.zeroCopy.thresholdBytes), SNAKEPIT_SHM_PREFIX: shmPrefix(runId) } : {}),
  };
}

/**
 * Encoding options of a worker's calls. `local`: the worker runs on this machine and shares its
 * `/dev/shm` (spawned workers); attached workers may run elsewhere, so they always get bytes inline.
 */
export function payloadOptions(config: DataPlaneConfig | undefined, runId: string, local: boolean): PayloadOptions {
  if (!config) return {};
  return {
    maxPayloadBytes: config.maxPayloadBytes,
    zeroCopy: local && zeroCopyOn(config) ? { thresholdBytes: config.zeroCopy.thresholdBytes, runId } : undefined,
  };
}
