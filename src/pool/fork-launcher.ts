/**
 * A pool's `startMode: 'fork'`: its workers — at start, and every replacement after a crash or a
 * recycle — are forked from one template process while that is safe and possible, and spawned
 * otherwise. The rules:
 *
 * - the template starts with the pool's first worker; its import and `preload()` count against
 *   `poolStartupTimeoutMs`;
 * - it refuses to fork when that is unsafe (threads, CUDA, not Linux): one warning, and the pool
 *   spawns its workers for the rest of its life;
 * - it fails to load the adapter (`adapter_import`): the worker's start fails with that error, as
 *   a spawned worker's would; any other start failure of the template: spawn from then on;
 * - it dies while the pool runs: the workers forked from it die with it (PDEATHSIG, as they would
 *   with the host), the pool replaces them as after any crash, and the next worker starts a new
 *   template; after `MAX_TEMPLATE_DEATHS` deaths, the pool spawns from then on.
 */
import { randomBytes } from 'node:crypto';
import { rmdirSync } from 'node:fs';
import path from 'node:path';
import { isSnakepitError, PoolError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createRunDir } from '../process/run-dir.js';
import { spawnArgs, spawnEnv, type SpawnedEndpoint } from '../worker/endpoints.js';
import { ForkServer } from '../worker/fork-server.js';
import { ForkTemplate, type ForkRefusal } from '../worker/fork-template.js';
import type { WorkerChild } from '../worker/worker-process.js';

/** Template deaths after which a pool stops forking. */
export const MAX_TEMPLATE_DEATHS = 3;
/** Start failures spawning would meet as well: they fail the worker's start instead of a fallback. */
const ADAPTER_FAILURES: ReadonlySet<string> = new Set(['adapter_import', 'adapter_not_thread_safe']);

/** Why a fork pool spawns: the template's refusal, or the host's reasons. */
export type SpawnReason = ForkRefusal['code'] | 'template_failed' | 'template_died';

export interface ForkLauncherOptions {
  pool: string;
  /** The pool's spawn endpoint: what a spawned worker would run, with which environment. */
  endpoint: SpawnedEndpoint;
  startupTimeoutMs: number;
  logger: Logger;
}

/** Forks a pool's workers from its template, or says to spawn them. */
export class ForkLauncher {
  readonly #options: ForkLauncherOptions;
  #spawnReason: SpawnReason | undefined;
  #template: Promise<ForkTemplate> | undefined;
  /** The template `#template` resolved to, once it did. */
  #live: ForkTemplate | undefined;
  #server: Promise<ForkServer> | undefined;
  #runDir: string | undefined;
  /** Templates replaced by `renew()`, each stopping once its last worker is gone. */
  readonly #retiring = new Set<ForkTemplate>();
  #deaths = 0;
  #stopped = false;

  constructor(options: ForkLauncherOptions) {
    this.#options = options;
  }

  /** Why the pool spawns its workers now; undefined while it forks them. */
  get spawnReason(): SpawnReason | undefined {
    return this.#spawnReason;
  }

  /** The current template, once started (for tests and status). */
  get template(): Promise<ForkTemplate> | undefined {
    return this.#template;
  }

  /** Worker `id`'s process, forked from the template; undefined when the worker must be spawned. */
  async launch(id: string, capacity: number): Promise<WorkerChild | undefined> {
    const template = await this.#current();
    if (!template) return undefined;
    const { endpoint, pool, logger } = this.#options;
    try {
      return await template.fork(spawnArgs(endpoint, id, capacity), logger.child({ workerId: id, pool, category: 'worker' }));
    } catch (error) {
      // A template that does not answer is replaced; the workers it forked keep serving until recycled.
      if (template.unresponsive && this.#live === template) {
        logger.error(`Pool ${pool}: fork template ${String(template.pid)} did not answer a fork request; the next workers fork from a new one`, { pool, category: 'lifecycle' });
        this.renew(0);
      }
      throw error;
    }
  }

  /**
   * The adapter's code changed: the next worker forks from a new template, which imports it and runs
   * `preload()` again; the current template stops once the last worker forked from it is gone (its
   * workers die with it, so it must outlive them: recycle them to move them over).
   */
  renew(gracefulTimeoutMs: number): void {
    const current = this.#template;
    [this.#template, this.#live] = [undefined, undefined];
    void current?.then(
      async (template) => {
        this.#retiring.add(template);
        await template.childless();
        await template.stop(gracefulTimeoutMs);
        this.#retiring.delete(template);
      },
      () => {},
    );
  }

  /** Stops the templates (after the pool's workers) and closes the fork socket. */
  async stop(gracefulTimeoutMs: number): Promise<void> {
    this.#stopped = true;
    const template = await this.#template?.catch(() => undefined);
    await Promise.all([template, ...this.#retiring].map((t) => t?.stop(gracefulTimeoutMs)));
    const server = await this.#server?.catch(() => undefined);
    await server?.close(new PoolError(`Pool ${this.#options.pool} stopped`, 'pool_stopped', { pool: this.#options.pool }));
    try {
      if (this.#runDir) rmdirSync(this.#runDir); // only when empty: gRPC sockets of the run may live there too
    } catch {
      // not empty: its owner removes it
    }
  }

  async #current(): Promise<ForkTemplate | undefined> {
    if (this.#spawnReason || this.#stopped) return undefined;
    if (process.platform !== 'linux') return this.#spawnFromNowOn('platform', `fork mode needs Linux, this is ${process.platform}`);
    this.#template ??= this.#startTemplate();
    const started = this.#template;
    let template: ForkTemplate;
    try {
      template = await started;
    } catch (error) {
      if (this.#template === started) this.#template = undefined;
      if (isSnakepitError(error) && ADAPTER_FAILURES.has(error.code)) throw error;
      return this.#spawnFromNowOn('template_failed', `the fork template could not start: ${(error as Error).message}`);
    }
    // Died since (its children with it): the next worker forks from a new one.
    if (!template.alive) {
      if (this.#template === started) [this.#template, this.#live] = [undefined, undefined];
      return this.#current();
    }
    const refused = template.readyInfo?.refused;
    if (!refused) return template;
    if (!this.#spawnReason) void template.stop(0);
    return this.#spawnFromNowOn(refused.code, refused.message);
  }

  async #startTemplate(): Promise<ForkTemplate> {
    const { endpoint, pool, startupTimeoutMs, logger } = this.#options;
    this.#server ??= ForkServer.listen(path.join((this.#runDir = createRunDir(endpoint.runId)), `fork-${randomBytes(4).toString('hex')}.sock`));
    const server = await this.#server;
    const id = `${pool}-template`;
    const template = await ForkTemplate.start({
      id,
      python: endpoint.python,
      // The run id on its command line (and so on every child's, which inherit it) lets a later start reap them.
      args: ['-m', 'snakepit_bridge.fork_template', '--adapter', endpoint.adapter, '--snakepit-run-id', endpoint.runId, ...endpoint.adapterArgs],
      env: spawnEnv(endpoint),
      cwd: endpoint.cwd,
      runId: endpoint.runId,
      startupTimeoutMs,
      server,
      logger: logger.child({ workerId: id, pool, category: 'lifecycle' }),
    });
    const info = template.readyInfo;
    if (info && !info.refused) {
      logger.info(`Pool ${pool}: fork template ${String(template.pid)} ready (import ${info.importMs.toFixed(0)} ms, preload ${info.preloaded ? `${info.preloadMs.toFixed(0)} ms` : 'none'})`, { pool, category: 'lifecycle' });
    }
    this.#live = template;
    void template.exited.then((exit) => this.#died(template, exit));
    return template;
  }

  #died(template: ForkTemplate, exit: { exitCode: number | null; signal: string | null }): void {
    if (this.#stopped || this.#spawnReason || template.stopRequested || template.readyInfo?.refused) return;
    if (this.#live === template) [this.#template, this.#live] = [undefined, undefined];
    this.#deaths++;
    const { pool, logger } = this.#options;
    const how = `code ${String(exit.exitCode)}, signal ${String(exit.signal)}`;
    if (this.#deaths >= MAX_TEMPLATE_DEATHS) {
      this.#spawnFromNowOn('template_died', `the fork template died ${this.#deaths} times (last: ${how})`);
      return;
    }
    logger.error(`Pool ${pool}: fork template ${String(template.pid)} exited (${how}); the workers forked from it die with it, the next ones fork from a new template`, { pool, category: 'lifecycle' });
  }

  #spawnFromNowOn(reason: SpawnReason, message: string): undefined {
    if (this.#spawnReason) return undefined;
    this.#spawnReason = reason;
    const { pool, logger } = this.#options;
    logger.warn(`Pool ${pool}: startMode 'fork' is off (${reason}): ${message}; its workers are spawned`, { pool, category: 'lifecycle', spawnReason: reason });
    return undefined;
  }
}
