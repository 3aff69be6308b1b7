/** Waiting for a hand-started gRPC worker's `--ready-file` (shared by the bench floor and the attached-worker tests). */
import { readFileSync, watch } from 'node:fs';
import path from 'node:path';

/**
 * Resolves with the parsed JSON of `file` once it exists (the worker writes it atomically, renamed
 * into place); rejects after `timeoutMs` with `what` in the message.
 */
export function waitForReadyFile<T>(file: string, what: string, timeoutMs = 20_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`${what} did not become ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const check = () => {
      try {
        const parsed = JSON.parse(readFileSync(file, 'utf8')) as T;
        clearTimeout(timer);
        watcher.close();
        resolve(parsed);
      } catch {
        /* not there yet */
      }
    };
    const watcher = watch(path.dirname(file), check);
    check();
  });
}
