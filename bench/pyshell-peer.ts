/** The python-shell peer: one `PythonShell` in JSON mode (bench/python/pyshell_echo.py), requests matched by id. */
import path from 'node:path';
import { PythonShell } from 'python-shell';

export class PyShellEcho {
  readonly #shell: PythonShell;
  readonly #pending = new Map<number, (v: unknown) => void>();
  readonly #failures = new Map<number, (e: Error) => void>();
  #nextId = 1;

  constructor(python: string, benchDir: string) {
    this.#shell = new PythonShell(path.join(benchDir, 'python', 'pyshell_echo.py'), { mode: 'json', pythonPath: python, pythonOptions: ['-u'] });
    this.#shell.on('message', (msg: { id: number; value: unknown }) => {
      this.#pending.get(msg.id)?.(msg.value);
      this.#pending.delete(msg.id);
      this.#failures.delete(msg.id);
    });
    this.#shell.on('error', () => undefined);
    // Killed from outside (a shared machine): fail the calls in flight instead of leaving them pending.
    this.#shell.childProcess.on('exit', (code, signal) => {
      for (const fail of this.#failures.values()) fail(new Error(`python-shell peer exited (${code ?? signal})`));
    });
  }

  call(value: unknown): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, resolve);
      this.#failures.set(id, reject);
      this.#shell.send({ id, value });
    });
  }

  close(): void {
    this.#shell.childProcess.removeAllListeners('exit');
    this.#shell.kill('SIGKILL');
  }
}
