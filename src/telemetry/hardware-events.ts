/**
 * Hardware events (the original's `hardware_events`): a detection that ran its probes
 * (`snakepit.hardware.detect.start` / `.stop` with the accelerator found), a cached one
 * (`cache.hit`, or `cache.miss` before probing), and each device selection (`select.start` /
 * `.stop` with the device chosen). Wrapped around `Hardware`'s methods; `hasSubscribers` checks
 * when nobody listens.
 */
import { performance } from 'node:perf_hooks';
import type { HardwareInfo } from '../hardware/types.js';
import { emit, enabled } from './bus.js';

/** Runs a detection (`cached`: whether its result is already held) between its events. */
export function traceDetect(cached: boolean, detect: () => Promise<HardwareInfo>): Promise<HardwareInfo> {
  if (cached) {
    if (enabled('snakepit.hardware.cache.hit')) emit('snakepit.hardware.cache.hit', {}, { key: 'detect' });
    return detect();
  }
  if (enabled('snakepit.hardware.cache.miss')) emit('snakepit.hardware.cache.miss', {}, { key: 'detect' });
  const startedAt = performance.now();
  if (enabled('snakepit.hardware.detect.start')) emit('snakepit.hardware.detect.start', { systemTime: performance.timeOrigin + startedAt }, {});
  const running = detect();
  if (!enabled('snakepit.hardware.detect.stop')) return running;
  return running.then((info) => {
    emit('snakepit.hardware.detect.stop', { durationMs: performance.now() - startedAt }, { accelerator: info.accelerator, platform: info.platform });
    return info;
  });
}

/** Runs a device selection for `preference` between `select.start` and `select.stop` (also when none fits). */
export async function traceSelect<D extends string>(preference: unknown, select: () => Promise<D>): Promise<D> {
  const on = enabled('snakepit.hardware.select.start') || enabled('snakepit.hardware.select.stop');
  if (!on) return select();
  const startedAt = performance.now();
  emit('snakepit.hardware.select.start', { systemTime: performance.timeOrigin + startedAt }, { preference });
  let device: D | undefined;
  try {
    device = await select();
    return device;
  } finally {
    emit('snakepit.hardware.select.stop', { durationMs: performance.now() - startedAt }, { device, success: device !== undefined });
  }
}
