// telemetry.gpuProfiler against a fake nvidia-smi on PATH: samples as events, N/A left out, no GPU → false.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { telemetry } from '../../src/index.js';
import { parseGpuSample } from '../../src/telemetry/gpu-profiler.js';
import { FakeTools } from '../helpers/fake-tools.js';

/** `nvidia-smi --query-gpu=index,memory.used,memory.total,utilization.gpu,temperature.gpu,power.draw --format=csv,noheader,nounits`, 2 GPUs. */
const SAMPLE = '0, 1024, 81920, 37, 45, 88.50\n1, 0, 81920, 0, 31, [N/A]\n';

describe('telemetry.gpuProfiler', () => {
  let fake: FakeTools;
  const seen: { measurements: Record<string, number>; metadata: Record<string, unknown> }[] = [];
  let waiter: { count: number; resolve: () => void } | undefined;
  beforeEach(() => {
    fake = new FakeTools();
    seen.length = 0;
    telemetry.attach('gpu-test', ['snakepit.gpu.sampled'], (_e, measurements, metadata) => {
      seen.push({ measurements: measurements as Record<string, number>, metadata: metadata as Record<string, unknown> });
      if (waiter && seen.length >= waiter.count) waiter.resolve();
    });
  });
  afterEach(() => {
    telemetry.gpuProfiler.stop();
    telemetry.detach('gpu-test');
    fake.remove();
  });
  const untilSeen = (count: number, timeoutMs = 5_000) =>
    seen.length >= count
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`fewer than ${count} samples within ${timeoutMs} ms`)), timeoutMs);
          waiter = { count, resolve: () => (clearTimeout(timer), resolve()) };
        });

  it('parses a sample and leaves N/A fields out', () => {
    expect(parseGpuSample(SAMPLE)).toEqual([
      { device: 0, measurements: { memoryUsedMb: 1024, memoryTotalMb: 81920, utilizationPercent: 37, temperatureC: 45, powerW: 88.5 } },
      { device: 1, measurements: { memoryUsedMb: 0, memoryTotalMb: 81920, utilizationPercent: 0, temperatureC: 31 } },
    ]);
    expect(parseGpuSample('garbage\n\n')).toEqual([]);
  });

  it('samples every GPU at once and then every intervalMs until stopped', async () => {
    fake.tool('nvidia-smi', [{ when: '--query-gpu', stdout: SAMPLE }]);
    await expect(telemetry.gpuProfiler.start({ intervalMs: 20, env: fake.env })).resolves.toBe(true);
    expect(telemetry.gpuProfiler.running()).toBe(true);
    expect(seen.map((s) => s.metadata.device)).toEqual([0, 1]);
    expect(seen[0]!.measurements).toMatchObject({ memoryUsedMb: 1024, memoryTotalMb: 81920, utilizationPercent: 37, temperatureC: 45, powerW: 88.5 });
    expect(seen[1]!.measurements).not.toHaveProperty('powerW');
    await untilSeen(4);
    telemetry.gpuProfiler.stop();
    expect(telemetry.gpuProfiler.running()).toBe(false);
    expect(fake.calls('nvidia-smi')).toBeGreaterThanOrEqual(2);
  });

  it('without nvidia-smi resolves false and samples nothing', async () => {
    await expect(telemetry.gpuProfiler.start({ intervalMs: 20, env: fake.env })).resolves.toBe(false);
    expect(telemetry.gpuProfiler.running()).toBe(false);
    expect(seen).toEqual([]);
  });

  it('with a failing nvidia-smi (no driver) resolves false', async () => {
    fake.tool('nvidia-smi', [{ stdout: 'NVIDIA-SMI has failed\n', exitCode: 9 }]);
    await expect(telemetry.gpuProfiler.start({ env: fake.env })).resolves.toBe(false);
    expect(telemetry.gpuProfiler.running()).toBe(false);
  });
});
