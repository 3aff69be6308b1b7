// Cleanup events: the start's sweep of dead runs, Snakepit.reapOrphans() and Snakepit.cleanup().
import { afterEach, describe, expect, it } from 'vitest';
import { Snakepit } from '../../../src/index.js';
import { startPool } from '../../helpers/pool.js';
import { recordTelemetry, type TelemetryRecorder } from '../../helpers/telemetry.js';

describe('cleanup events', () => {
  let rec: TelemetryRecorder | undefined;
  afterEach(async () => {
    rec?.stop();
    rec = undefined;
    await Snakepit.cleanup();
  });

  it('a start sweeps dead runs and reports it with trigger startup', async () => {
    rec = recordTelemetry(['snakepit.cleanup.orphans_reaped']);
    const { sp } = await startPool();
    expect(rec.seen).toHaveLength(1);
    expect(rec.seen[0]!.metadata).toMatchObject({ trigger: 'startup' });
    expect(rec.seen[0]!.measurements.deadRuns).toBe(sp.startupSweep?.deadRuns.length ?? -1);
  });

  it('Snakepit.reapOrphans() reports its counts with trigger manual', async () => {
    rec = recordTelemetry(['snakepit.cleanup.orphans_reaped']);
    const report = await Snakepit.reapOrphans();
    expect(rec.seen).toEqual([
      expect.objectContaining({
        metadata: { trigger: 'manual', deadRuns: report.deadRuns },
        measurements: expect.objectContaining({ deadRuns: report.deadRuns.length, terminated: report.terminated.length, killed: report.killed.length }),
      }),
    ]);
  });

  it('Snakepit.cleanup() reports the instances it stopped', async () => {
    await startPool();
    rec = recordTelemetry(['snakepit.cleanup.completed']);
    const result = await Snakepit.cleanup();
    expect(result.stopped).toBe(1);
    expect(rec.seen).toHaveLength(1);
    expect(rec.seen[0]).toMatchObject({ metadata: { trigger: 'manual' }, measurements: { stopped: 1, killed: result.killed.length, resisted: 0 } });
  });
});
