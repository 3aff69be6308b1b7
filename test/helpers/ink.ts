// Waiting for Ink frames: re-checks on every frame Ink writes, bounded by a timeout, never a sleep.
import { stripVTControlCharacters } from 'node:util';

interface Rendered {
  stdout: { write: (frame: string) => void };
  lastFrame(): string | undefined;
}

/** Resolves with the first frame (ANSI stripped) that satisfies `test`; rejects after `timeoutMs` with the last one. */
export function waitForFrame(app: Rendered, test: (frame: string) => boolean, timeoutMs = 10_000): Promise<string> {
  const frame = () => stripVTControlCharacters(app.lastFrame() ?? '');
  // ink-testing-library's stdout records frames without emitting: hook its write for the wait.
  const write = app.stdout.write;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms; last frame:\n${frame()}`)), timeoutMs);
    const check = (): void => {
      if (!test(frame())) return;
      clearTimeout(timer);
      resolve(frame());
    };
    app.stdout.write = (f: string) => {
      write(f);
      check();
    };
    check();
  }).finally(() => {
    app.stdout.write = write;
  });
}
