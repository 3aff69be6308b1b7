// Hardware's telemetry: a probing detection between detect.start/stop (with a cache miss), cached ones as cache.hit,
// and each selection between select.start/stop, a failed one with success false.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHardware, telemetry } from '../../../src/index.js';
import { FakeTools } from '../../helpers/fake-tools.js';

/** `nvidia-smi --query-gpu=index,name,memory.total,memory.free,compute_cap,driver_version --format=csv,noheader,nounits`, one GPU. */
const NVIDIA_CSV = '0, NVIDIA A100-SXM4-80GB, 81920, 81050, 8.0, 535.104.05\n';

const EVENTS = [
  'snakepit.hardware.detect.start',
  'snakepit.hardware.detect.stop',
  'snakepit.hardware.select.start',
  'snakepit.hardware.select.stop',
  'snakepit.hardware.cache.hit',
  'snakepit.hardware.cache.miss',
] as const;

describe('hardware events', () => {
  let fake: FakeTools;
  const seen: { event: string; measurements: Record<string, number>; metadata: Record<string, unknown> }[] = [];
  beforeEach(() => {
    fake = new FakeTools();
    seen.length = 0;
    telemetry.attach('hw-test', EVENTS, (event, measurements, metadata) => seen.push({ event, measurements, metadata: metadata as Record<string, unknown> }));
  });
  afterEach(() => {
    telemetry.detach('hw-test');
    fake.remove();
  });

  it('times a probing detection, then reports cache hits; selections are timed with the device chosen', async () => {
    fake.tool('nvidia-smi', [{ when: '--query-gpu', stdout: NVIDIA_CSV }, { stdout: '' }]);
    const hw = createHardware({ env: fake.env });
    await hw.detect();
    await hw.detect();
    await expect(hw.select('cuda')).resolves.toBe('cuda:0');
    await expect(hw.select({ cuda: 7 })).rejects.toMatchObject({ code: 'device_not_available' });
    expect(seen.map((e) => e.event)).toEqual([
      'snakepit.hardware.cache.miss',
      'snakepit.hardware.detect.start',
      'snakepit.hardware.detect.stop',
      'snakepit.hardware.cache.hit',
      'snakepit.hardware.select.start',
      'snakepit.hardware.cache.hit',
      'snakepit.hardware.select.stop',
      'snakepit.hardware.select.start',
      'snakepit.hardware.cache.hit',
      'snakepit.hardware.select.stop',
    ]);
    expect(seen[2]).toMatchObject({ metadata: { accelerator: 'cuda', platform: expect.any(String) } });
    expect(seen[2]!.measurements.durationMs).toBeGreaterThanOrEqual(0);
    expect(seen[4]!.metadata).toEqual({ preference: 'cuda' });
    expect(seen[6]!.metadata).toEqual({ device: 'cuda:0', success: true });
    expect(seen[9]!.metadata).toEqual({ device: undefined, success: false });
    expect(seen[3]!.metadata).toEqual({ key: 'detect' });
  });
});
