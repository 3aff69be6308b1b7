/**
 * The edit loop: watch the pools' Python sources; on a change check that the adapters still import,
 * roll the workers over on the recycle path (replacement ready first, no call fails), and regenerate
 * the tool types. A change that does not import leaves the old workers serving.
 */
import { EventEmitter } from 'node:events';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { ResolvedPoolConfig } from '../config/index.js';
import type { Snakepit } from '../snakepit.js';
import type { AdapterTypeSpec } from '../typed/type-spec.js';
import { extractPoolTypes } from '../typegen/extract.js';
import { planTypes, writeTypes, type GenTypesResult } from '../typegen/generate.js';

/** Quiet time after the last change before a reload starts: editors write a file in several steps. */
export const DEFAULT_WATCH_DEBOUNCE_MS = 150;

/** The `watch` start option (`snakepit run --watch`). */
export interface WatchOptions {
  /** Quiet time after the last change before reloading, in ms. @default 150 */
  debounceMs?: number;
  /** Regenerate the tool types into this file on every reload. @default config `typesOut` (unset: no types) */
  typesOut?: string;
  /** More files or folders to watch besides each pool's `pythonPath`. @default [] */
  paths?: string[];
  /** Report reloads and failures (with Python's traceback) on stderr. @default true */
  report?: boolean;
}

/** What a watcher tells its listeners. */
export interface WatchEvents {
  /** Python files changed; the pools they belong to are being checked and reloaded. */
  change: [{ files: string[]; pools: string[] }];
  /** A pool's workers were all replaced by ones running the new code. */
  reloaded: [{ pool: string; workers: number; durationMs: number }];
  /** The types file was regenerated (or found unchanged). */
  types: [GenTypesResult];
  /** A pool's adapter does not import (or a replacement did not start): its old workers keep serving. */
  failed: [{ pool: string; error: Error }];
}

/** Watches the Python sources of one instance's spawned pools; `close()` it (the instance's `stop()` does). */
export class PythonWatcher extends EventEmitter<WatchEvents> {
  readonly #sp: Snakepit;
  readonly #cwd: string;
  readonly #options: WatchOptions;
  readonly #watchers: FSWatcher[] = [];
  readonly #roots: { pool: string | undefined; root: string }[] = [];
  readonly #specs = new Map<string, AdapterTypeSpec>();
  readonly #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(sp: Snakepit, cwd: string, options: WatchOptions = {}) {
    super();
    this.#sp = sp;
    this.#cwd = cwd;
    this.#options = options;
    for (const pool of sp.config.pools.filter((p) => p.workers === undefined)) {
      // Relative entries resolve as the workers' PYTHONPATH does (worker-env.ts).
      for (const entry of pool.pythonPath) this.#roots.push({ pool: pool.name, root: path.resolve(entry) });
    }
    for (const extra of options.paths ?? []) this.#roots.push({ pool: undefined, root: path.resolve(cwd, extra) });
    if (options.report !== false) this.#reportOnStderr();
    for (const root of new Set(this.#roots.map((r) => r.root))) {
      if (!existsSync(root)) continue;
      const watcher = watch(root, { recursive: true }, (_event, file) => this.#noticed(root, file));
      watcher.on('error', (error) => this.emit('failed', { pool: '*', error }));
      this.#watchers.push(watcher);
    }
  }

  /** Folders watched. */
  get roots(): string[] {
    return [...new Set(this.#roots.map((r) => r.root))];
  }

  /** Stops watching; a reload under way finishes. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const w of this.#watchers) w.close();
  }

  #noticed(root: string, file: string | Buffer | null): void {
    const name = file?.toString();
    if (this.#closed || !name || !name.endsWith('.py') || name.split(path.sep).includes('__pycache__')) return;
    this.#pending.add(path.join(root, name));
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#reloadWhenFree();
    }, this.#options.debounceMs ?? DEFAULT_WATCH_DEBOUNCE_MS);
  }

  /** One reload at a time; changes seen meanwhile make one more. */
  async #reloadWhenFree(): Promise<void> {
    while (this.#running) await this.#running;
    if (this.#pending.size === 0 || this.#closed) return;
    const files = [...this.#pending];
    this.#pending.clear();
    this.#running = this.#reload(files).finally(() => (this.#running = undefined));
    await this.#running;
  }

  async #reload(files: string[]): Promise<void> {
    const everyPool = this.#roots.some((r) => r.pool === undefined && files.some((f) => inside(f, r.root)));
    const pools = this.#sp.config.pools.filter((p) => p.workers === undefined && (everyPool || this.#roots.some((r) => r.pool === p.name && files.some((f) => inside(f, r.root)))));
    if (pools.length === 0) return;
    this.emit('change', { files, pools: pools.map((p) => p.name) });
    // Each pool's adapter is imported in a fresh Python first: a syntax error stops here, with the old workers serving.
    await Promise.all(pools.map((pool) => this.#reloadPool(pool)));
    await this.#writeTypes();
  }

  async #reloadPool(pool: ResolvedPoolConfig): Promise<void> {
    const startedAt = performance.now();
    try {
      this.#specs.set(pool.name, await extractPoolTypes(pool, { cwd: this.#cwd }));
      const workers = this.#sp.listWorkers(pool.name);
      this.#sp.pool(pool.name).renewForkTemplate(); // fork mode: the replacements fork from the new code
      const outcomes = await Promise.allSettled(workers.map((w) => this.#sp.recycleWorker(pool.name, w.id)));
      const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failure) throw failure.reason as Error;
      this.emit('reloaded', { pool: pool.name, workers: workers.length, durationMs: performance.now() - startedAt });
    } catch (error) {
      this.#specs.delete(pool.name);
      // A recycle cut short by the instance's stop is no failure worth a report.
      if (!this.#closed) this.emit('failed', { pool: pool.name, error: error as Error });
    }
  }

  async #writeTypes(): Promise<void> {
    const out = this.#options.typesOut ?? this.#sp.config.typesOut;
    if (out === undefined || this.#closed) return;
    try {
      const plan = await planTypes({ cwd: this.#cwd, config: this.#sp.config, out });
      for (const pool of plan.selected) if (!this.#specs.has(pool.name)) this.#specs.set(pool.name, await extractPoolTypes(pool, { cwd: this.#cwd }));
      this.emit('types', await writeTypes(plan, this.#specs));
    } catch (error) {
      this.emit('failed', { pool: '*', error: error as Error });
    }
  }

  #reportOnStderr(): void {
    const say = (line: string) => process.stderr.write(`snakepit watch: ${line}\n`);
    this.on('change', ({ files, pools }) => say(`${files.map((f) => path.relative(this.#cwd, f)).join(', ')} changed: reloading pool ${pools.join(', ')}`));
    this.on('reloaded', ({ pool, workers, durationMs }) => say(`pool ${pool}: ${workers} worker${workers === 1 ? '' : 's'} on the new code (${Math.round(durationMs)} ms)`));
    this.on('types', (r) => r.status === 'written' && say(`types written to ${path.relative(this.#cwd, r.file)}`));
    this.on('failed', ({ pool, error }) => {
      const traceback = (error as { pythonTraceback?: string }).pythonTraceback;
      say(`pool ${pool} keeps its workers: ${error.message}${traceback ? `\n${traceback.trimEnd()}` : ''}`);
    });
  }
}

function inside(file: string, root: string): boolean {
  const rel = path.relative(root, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
