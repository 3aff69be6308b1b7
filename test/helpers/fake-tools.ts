// Fake nvidia-smi / rocm-smi / nvcc for hardware tests: shell scripts in a temp dir put on PATH.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One answer of a fake tool: when its arguments contain `when` (or always), print `stdout` and exit. */
export interface FakeAnswer {
  when?: string;
  stdout: string;
  exitCode?: number;
  /** Hang instead of answering (a wedged driver). */
  hang?: boolean;
}

/** A temp dir of fake tools; `env` has only that dir on PATH, so real tools stay out of the way. */
export class FakeTools {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'snakepit-hw-'));
  get env(): NodeJS.ProcessEnv {
    return { PATH: this.dir, CUDA_HOME: path.join(this.dir, 'cuda'), ROCM_PATH: path.join(this.dir, 'rocm') };
  }

  /** Writes `name`: answers in order of `when` match; each run appends a line to `<name>.calls`. */
  tool(name: string, answers: readonly FakeAnswer[]): this {
    const lines = ['#!/bin/sh', `echo "$*" >> '${path.join(this.dir, `${name}.calls`)}'`, 'case "$*" in'];
    answers.forEach((answer, i) => {
      const out = path.join(this.dir, `${name}.${i}.out`);
      writeFileSync(out, answer.stdout);
      const action = answer.hang ? 'exec /bin/sleep 30' : `/bin/cat '${out}'; exit ${answer.exitCode ?? 0}`;
      lines.push(`  ${answer.when === undefined ? '*' : `*${answer.when}*`}) ${action} ;;`);
    });
    lines.push('esac', '');
    const file = path.join(this.dir, name);
    writeFileSync(file, lines.join('\n'));
    chmodSync(file, 0o755);
    return this;
  }

  /** A file under the fake dir (CUDA_HOME is `cuda/`, ROCM_PATH is `rocm/`). */
  file(relative: string, text: string): this {
    const file = path.join(this.dir, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return this;
  }

  /** How often `name` ran. */
  calls(name: string): number {
    try {
      // One line per run (an empty one for a run without arguments).
      return readFileSync(path.join(this.dir, `${name}.calls`), 'utf8').split('\n').length - 1;
    } catch {
      return 0;
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
