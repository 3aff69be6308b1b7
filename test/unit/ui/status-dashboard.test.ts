// The status dashboard's Ink views: frames from props, and live frames from a polled source that changes.
import { createElement as h } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import type { InstanceSnapshot } from '../../../src/control/snapshot.js';
import { formatStatus } from '../../../src/cli/status-view.js';
import { StatusApp, StatusDashboard } from '../../../src/ui/status-dashboard.js';
import { fakeInstance } from '../../helpers/status-fixtures.js';
import { waitForFrame } from '../../helpers/ink.js';

afterEach(() => cleanup());

describe('StatusDashboard', () => {
  it('given one instance, shows pool numbers and a worker row', () => {
    const instance = fakeInstance({ requests: 12, queued: 3, errors: 2, busy: 1, callsPerSec: 4.5 });
    const { lastFrame } = render(h(StatusDashboard, { state: { instances: [instance], history: new Map([['abcdefg/default', [0, 4.5]]]), polls: 1, error: undefined }, now: instance.takenAt }));
    const frame = lastFrame()!;
    expect(frame).toContain('Snakepit abcdefg');
    expect(frame).toMatch(/busy 1\s+idle 0\s+queue 3\s+requests 12\s+errors 2\s+recycles 0/);
    expect(frame).toMatch(/calls\/s\s+4\.5\s+▁█\s+p50 1\.5ms\s+p99 9\.0ms/);
    expect(frame).toMatch(/default-w0\s+5151\s+busy\s+1\/1\s+12\s+1m05s\s+31\.5M\s+1\.2s\s+local/);
  });

  it('given a remote worker, shows its address and the zone it reports', () => {
    const instance = fakeInstance({ remote: { address: '10.1.2.3:50051', zone: 'node-b' } });
    const { lastFrame } = render(h(StatusDashboard, { state: { instances: [instance], history: new Map(), polls: 1, error: undefined }, now: instance.takenAt }));
    expect(lastFrame()).toMatch(/default-w0\s+5151\s+ready.*\s10\.1\.2\.3:50051 node-b/);
  });

  it('given no instances after a poll, says so', () => {
    const { lastFrame } = render(h(StatusDashboard, { state: { instances: [], history: new Map(), polls: 1, error: undefined } }));
    expect(lastFrame()).toContain('No running Snakepit instances found.');
  });
});

describe('formatStatus (one-shot)', () => {
  const plain = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');

  it('lists remote workers with address, zone and state under their pool', () => {
    const text = plain(formatStatus([fakeInstance({ busy: 1, remote: { address: '10.1.2.3:50051', zone: 'node-b' } })], Date.parse('2026-01-01T00:01:05Z')));
    expect(text).toMatch(/pool default: remote workers/);
    expect(text).toMatch(/default-w0\s+10\.1\.2\.3:50051\s+node-b\s+busy\s+1\/1/);
  });

  it('adds nothing for spawned workers', () => {
    expect(plain(formatStatus([fakeInstance()]))).not.toContain('remote workers');
  });
});

describe('StatusApp', () => {
  it('when the source changes between polls, renders the new numbers and grows the sparkline', async () => {
    let requests = 0;
    const source = async (): Promise<InstanceSnapshot[]> => {
      requests += 5;
      return [fakeInstance({ requests, callsPerSec: requests })];
    };
    const app = render(h(StatusApp, { source, intervalMs: 20 }));
    const first = await waitForFrame(app, (f) => /requests 5\b/.test(f));
    const later = await waitForFrame(app, (f) => /requests 15\b/.test(f));
    expect(first).not.toBe(later);
    expect(later).toMatch(/calls\/s\s+15\.0\s+▃▆█/);
  });

  it('shows a failed poll and recovers on the next one', async () => {
    let n = 0;
    const source = async (): Promise<InstanceSnapshot[]> => {
      n++;
      if (n === 1) throw new Error('socket went away');
      return [fakeInstance({ requests: n })];
    };
    const app = render(h(StatusApp, { source, intervalMs: 20 }));
    await waitForFrame(app, (f) => f.includes('poll failed: socket went away'));
    const recovered = await waitForFrame(app, (f) => /requests \d/.test(f));
    expect(recovered).not.toContain('poll failed');
  });
});
