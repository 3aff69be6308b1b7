import { describe, expect, it } from 'vitest';
import {
  adviseProfile,
  libraryThreadSafety,
  parsePythonVersion,
  runtimeInfoFromWire,
  type PythonRuntimeInfo,
} from '../../../src/python/profile-advice.js';

const GIL_311: PythonRuntimeInfo = { version: '3.11.7', gilEnabled: true, freeThreading: false };
const GIL_313: PythonRuntimeInfo = { version: '3.13.1', gilEnabled: true, freeThreading: false };
const FREE_313T: PythonRuntimeInfo = { version: '3.13.1', gilEnabled: false, freeThreading: true };
const FREE_BUILD_GIL_ON: PythonRuntimeInfo = { version: '3.14.0', gilEnabled: true, freeThreading: true };

describe('adviseProfile', () => {
  it.each([
    ['unknown runtime', undefined, 'process'],
    ['3.11 (GIL)', GIL_311, 'process'],
    ['3.13 default build (GIL)', GIL_313, 'process'],
    ['3.13t free-threaded, GIL off', FREE_313T, 'thread'],
    ['free-threaded build with the GIL back on', FREE_BUILD_GIL_ON, 'process'],
  ] as const)('pure-Python CPU work on %s: %s', (_label, runtime, expected) => {
    const advice = adviseProfile(runtime);
    expect(advice.recommended).toBe(expected);
    expect(advice.matches).toBeUndefined();
    expect(advice.reasons.length).toBeGreaterThan(0);
    expect(advice.warnings).toEqual([]);
  });

  it.each(['gil_releasing', 'io'] as const)('a GIL Python still suits the thread profile for %s work', (workload) => {
    expect(adviseProfile(GIL_311, undefined, { workload }).recommended).toBe('thread');
  });

  it('warns about a thread pool on a GIL Python doing pure-Python work', () => {
    const advice = adviseProfile(GIL_311, { workerProfile: 'thread', threadsPerWorker: 4 }, { cpuCount: 4 });
    expect(advice).toMatchObject({ recommended: 'process', matches: false });
    expect(advice.warnings).toHaveLength(1);
  });

  it('has nothing to warn about a thread pool on a free-threaded Python sized to the cores', () => {
    const advice = adviseProfile(FREE_313T, { workerProfile: 'thread', threadsPerWorker: 8 }, { cpuCount: 4 });
    expect(advice).toMatchObject({ recommended: 'thread', matches: true, warnings: [] });
  });

  it('warns when threadsPerWorker is more than twice the cores', () => {
    const advice = adviseProfile(FREE_313T, { workerProfile: 'thread', threadsPerWorker: 16 }, { cpuCount: 2 });
    expect(advice.warnings).toHaveLength(1);
  });

  it('uses threadsPerWorker 10 (the config default) when the pool does not say', () => {
    expect(adviseProfile(FREE_313T, { workerProfile: 'thread' }, { cpuCount: 4 }).warnings).toHaveLength(1);
    expect(adviseProfile(FREE_313T, { workerProfile: 'thread' }, { cpuCount: 5 }).warnings).toEqual([]);
  });

  it('a thread-unsafe library turns the recommendation to process and warns on a thread pool', () => {
    const advice = adviseProfile(FREE_313T, { workerProfile: 'thread', threadsPerWorker: 4 }, { libraries: ['pandas', 'numpy'], cpuCount: 4 });
    expect(advice).toMatchObject({ recommended: 'process', matches: false });
    expect(advice.warnings).toHaveLength(1);
  });

  it('conditionally safe libraries only warn, and only for thread pools', () => {
    const thread = adviseProfile(FREE_313T, { workerProfile: 'thread', threadsPerWorker: 4 }, { libraries: ['sklearn'], cpuCount: 4 });
    expect(thread).toMatchObject({ recommended: 'thread', matches: true });
    expect(thread.warnings).toHaveLength(1);
    expect(adviseProfile(FREE_313T, { workerProfile: 'process' }, { libraries: ['sklearn'] }).warnings).toEqual([]);
  });

  it('a process pool on a GIL Python matches the advice', () => {
    expect(adviseProfile(GIL_311, { workerProfile: 'process' })).toMatchObject({ recommended: 'process', matches: true, warnings: [] });
  });
});

describe('helpers', () => {
  it('reads the wire shape', () => {
    expect(runtimeInfoFromWire({ version: '3.13.1', gil_enabled: false, free_threading: true })).toEqual(FREE_313T);
  });

  it.each([
    ['3.11.7', [3, 11]],
    ['3.14.0rc1', [3, 14]],
    [' 3.13 ', [3, 13]],
    ['unknown', undefined],
  ] as const)('parses %j', (text, expected) => {
    expect(parsePythonVersion(text)).toEqual(expected);
  });

  it.each([
    ['numpy', 'numpy', 'safe'],
    ['sklearn', 'scikit-learn', 'conditional'],
    ['Scikit_Learn', 'scikit-learn', 'conditional'],
    ['cv2', 'opencv-python', 'conditional'],
    ['PANDAS', 'pandas', 'unsafe'],
    ['sqlite3', 'sqlite3', 'unsafe'],
  ] as const)('knows %s as %s (%s)', (input, name, threadSafe) => {
    expect(libraryThreadSafety(input)).toMatchObject({ name, threadSafe });
  });

  it('does not know every library', () => {
    expect(libraryThreadSafety('left-pad')).toBeUndefined();
  });
});
