// telemetry.gpuProfiler against a fake nvidia-smi on PATH: the original's four events per GPU, N/A left out,
// sampleNow, interval validation, stats; no GPU → false (start) or device_not_available (sampleNow).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { telemetry } from '../../../src/index.js';
import { parseGpuSample } from '../../../src/telemetry/gpu-profiler.js';
import { FakeTools } from '../../helpers/fake-tools.js';

/** `nvidia-smi --query-gpu=index,memory.used,memory.total,memory.free,utilization.gpu,utilization.memory,temperature.gpu,power.draw,power.limit --format=csv,noheader,nounits`, 2 GPUs. */
const SAMPLE = '0, 1024, 81920, 80896, 37, 12, 45, 88.50, 700.00\n1, 0, 81920, 81920, 0, 0, 31, [N/A], [N/A]\n';
const GPU_EVENTS = ['snakepit.gpu.memory.sampled', 'snakepit.gpu.utilization.sampled', 'snakepit.gpu.temperature.sampled', 'snakepit.gpu.power.sampled'] as const;

describe('telemetry.gpuProfiler', () => {
  let fake: FakeTools;
  const seen: { event: string; measurements: Record<string, number>; metadata: Record<string, unknown> }[] = [];
  let waiter: { count: number; resolve: () => void } | undefined;
  beforeEach(() => {
    fake = new FakeTools();
    seen.length = 0;
    telemetry.attach('gpu-test', GPU_EVENTS, (event, measurements, metadata) => {
      seen.push({ event, measurements: measurements as Record<string, number>, metadata: metadata as Record<string, unknown> });
      if (waiter && seen.length >= waiter.count) waiter.resolve();
    });
  });
  afterEach(() => {
    telemetry.gpuProfiler.stop();
    telemetry.gpuProfiler.setInterval(5_000);
    telemetry.detach('gpu-test');
    fake.remove();
  });
  const untilSeen = (count: number, timeoutMs = 5_000) =>
    seen.length >= count
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`fewer than ${count} events within ${timeoutMs} ms`)), timeoutMs);
          waiter = { count, resolve: () => (clearTimeout(timer), resolve()) };
        });

  it('parses a sample and leaves N/A fields out', () => {
    expect(parseGpuSample(SAMPLE)).toEqual([
      {
        device: 0,
        memory: { usedMb: 1024, totalMb: 81920, freeMb: 80896 },
        utilization: { gpuPercent: 37, memoryPercent: 12 },
        temperature: { celsius: 45 },
        power: { watts: 88.5, limitWatts: 700 },
      },
      { device: 1, memory: { usedMb: 0, totalMb: 81920, freeMb: 81920 }, utilization: { gpuPercent: 0, memoryPercent: 0 }, temperature: { celsius: 31 }, power: {} },
    ]);
    expect(parseGpuSample('garbage\n\n')).toEqual([]);
  });

  it("emits the original's four events per GPU at once and then every intervalMs until stopped", async () => {
    fake.tool('nvidia-smi', [{ when: '--query-gpu', stdout: SAMPLE }]);
    await expect(telemetry.gpuProfiler.start({ intervalMs: 20, env: fake.env })).resolves.toBe(true);
    expect(telemetry.gpuProfiler.running()).toBe(true);
    // GPU 1 reports no power: three events for it.
    expect(seen.map((s) => [s.event, s.metadata.device])).toEqual([
      ['snakepit.gpu.memory.sampled', 0],
      ['snakepit.gpu.utilization.sampled', 0],
      ['snakepit.gpu.temperature.sampled', 0],
      ['snakepit.gpu.power.sampled', 0],
      ['snakepit.gpu.memory.sampled', 1],
      ['snakepit.gpu.utilization.sampled', 1],
      ['snakepit.gpu.temperature.sampled', 1],
    ]);
    expect(seen[0]).toMatchObject({ measurements: { usedMb: 1024, totalMb: 81920, freeMb: 80896 }, metadata: { utilization: 1024 / 81920 } });
    expect(seen[1]!.measurements).toEqual({ gpuPercent: 37, memoryPercent: 12 });
    expect(seen[2]!.measurements).toEqual({ celsius: 45 });
    expect(seen[3]!.measurements).toEqual({ watts: 88.5, limitWatts: 700 });
    await untilSeen(14);
    const stats = telemetry.gpuProfiler.stats();
    expect(stats).toMatchObject({ running: true, intervalMs: 20, devices: [0, 1] });
    expect(stats.sampleCount).toBeGreaterThanOrEqual(2);
    telemetry.gpuProfiler.stop();
    expect(telemetry.gpuProfiler.running()).toBe(false);
  });

  it('sampleNow takes one sample and emits its events without starting the profiler', async () => {
    fake.tool('nvidia-smi', [{ when: '--query-gpu', stdout: SAMPLE }]);
    const samples = await telemetry.gpuProfiler.sampleNow({ env: fake.env });
    expect(samples.map((s) => s.device)).toEqual([0, 1]);
    expect(seen).toHaveLength(7);
    expect(telemetry.gpuProfiler.running()).toBe(false);
  });

  it('sampleNow without a GPU rejects with device_not_available', async () => {
    await expect(telemetry.gpuProfiler.sampleNow({ env: fake.env })).rejects.toMatchObject({ name: 'HardwareError', code: 'device_not_available' });
    fake.tool('nvidia-smi', [{ stdout: 'NVIDIA-SMI has failed\n', exitCode: 9 }]);
    await expect(telemetry.gpuProfiler.sampleNow({ env: fake.env })).rejects.toMatchObject({ code: 'device_not_available' });
  });

  it('refuses an interval that is not an integer >= 1, naming the field', async () => {
    for (const bad of [0, -5, 1.5, Number.NaN]) {
      expect(() => telemetry.gpuProfiler.setInterval(bad)).toThrow(expect.objectContaining({ code: 'invalid_argument', details: expect.objectContaining({ field: 'intervalMs' }) }));
      await expect(telemetry.gpuProfiler.start({ intervalMs: bad, env: fake.env })).rejects.toMatchObject({ code: 'invalid_argument' });
    }
    telemetry.gpuProfiler.setInterval(250);
    expect(telemetry.gpuProfiler.stats().intervalMs).toBe(250);
  });

  it('setInterval changes the pace of a running profiler', async () => {
    fake.tool('nvidia-smi', [{ when: '--query-gpu', stdout: SAMPLE }]);
    await telemetry.gpuProfiler.start({ intervalMs: 60_000, env: fake.env });
    telemetry.gpuProfiler.setInterval(20);
    await untilSeen(14);
    expect(telemetry.gpuProfiler.stats()).toMatchObject({ running: true, intervalMs: 20 });
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
