// openProtocolPipes: two FIFOs, open at both ends and already unlinked; EOF and EPIPE as with
// socketpairs once the child's ends are closed; undefined (socketpairs then) where mkfifo is missing.
import { once } from 'node:events';
import { readSync, writeSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openProtocolPipes } from '../../../src/worker/protocol-pipes.js';

const RUN = `unit${process.pid}`;

describe.runIf(process.platform === 'linux')('openProtocolPipes', () => {
  let runtime: string;
  let savedRuntime: string | undefined;
  beforeEach(() => {
    savedRuntime = process.env.XDG_RUNTIME_DIR;
    runtime = mkdtempSync(path.join(os.tmpdir(), 'pipes-unit-'));
    process.env.XDG_RUNTIME_DIR = runtime;
  });
  afterEach(() => {
    if (savedRuntime === undefined) delete process.env.XDG_RUNTIME_DIR;
    else process.env.XDG_RUNTIME_DIR = savedRuntime;
    rmSync(runtime, { recursive: true, force: true });
  });

  it('carries bytes both ways; closing the child ends gives EOF to the host reader and EPIPE to the host writer', async () => {
    const pipes = await openProtocolPipes(RUN, { debug: () => {} });
    expect(pipes).toBeDefined();
    const [childReads, childWrites] = pipes!.childFds;

    pipes!.toPython.write(Buffer.from('to python'));
    await new Promise((resolve) => setImmediate(resolve));
    const buf = Buffer.alloc(64);
    expect(buf.subarray(0, readSync(childReads, buf)).toString()).toBe('to python');

    const data = once(pipes!.fromPython, 'data');
    writeSync(childWrites, 'from python');
    expect(String((await data)[0])).toBe('from python');

    const closed = once(pipes!.fromPython, 'close');
    const writeFailed = once(pipes!.toPython, 'error');
    pipes!.closeChildEnds();
    await closed; // no writer left: EOF
    pipes!.toPython.write(Buffer.from('nobody reads'));
    expect((await writeFailed)[0]).toMatchObject({ code: 'EPIPE' });
    pipes!.toPython.destroy();
  });

  it('leaves nothing in the run folder', async () => {
    const pipes = await openProtocolPipes(RUN, { debug: () => {} });
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(path.join(runtime, 'snakepit', RUN))).toEqual([]);
    pipes!.closeChildEnds();
    pipes!.toPython.destroy();
    pipes!.fromPython.destroy();
  });

  it('is undefined, with a debug line, where mkfifo cannot run (the worker then gets socketpairs)', async () => {
    const savedPath = process.env.PATH;
    process.env.PATH = runtime; // an empty folder: no mkfifo
    const lines: string[] = [];
    try {
      await expect(openProtocolPipes(RUN, { debug: (message: string) => lines.push(message) })).resolves.toBeUndefined();
    } finally {
      process.env.PATH = savedPath;
    }
    expect(lines).toHaveLength(1);
  });
});
