/** Options of the public facade: starting an instance, running it as a script, one call, a streamed chunk's info. */
import type { SnakepitConfigInput } from './config/index.js';
import type { LogCategoriesInput, LogSink, PinoLike } from './logger.js';
import type { CallOptions } from './pool/task.js';
import type { ScriptModeOptions } from './script-mode.js';
import type { WatchOptions } from './watch/python-watcher.js';

/** Options of one call through the facade. */
export interface ExecuteOptions extends CallOptions {
  /** Pool to run in. @default 'default' (or the only pool) */
  pool?: string;
}

/** Extra information passed with each streamed chunk. */
export interface ChunkInfo {
  /** True when Python marked the chunk `is_final`. */
  final: boolean;
  /** The yielded chunk object's `.metadata` map, when it has one (absent otherwise). */
  metadata?: Record<string, unknown>;
}

/** How to start an instance besides the config itself. */
export interface StartOptions {
  /** Folder to look for `snakepit.config.*` in when no config is given. @default process.cwd() */
  cwd?: string;
  /** Explicit config file path. */
  configFile?: string;
  /** Where log records go (Python stdout/stderr included). @default stderr */
  logSink?: LogSink;
  /** A pino-compatible logger to write into instead of `logSink` (`pino()`, a child of yours…). */
  logger?: PinoLike;
  /**
   * Levels per category (`pool`, `worker`, `grpc`, `bridge`, `lifecycle`, `heartbeat`,
   * `telemetry`, `python`, …) over the config's `logLevel` and `logCategories`; or the original's
   * list of the categories that log below `warn`. @default {}
   * @example { python: 'debug', heartbeat: 'none' }
   */
  logCategories?: LogCategoriesInput;
  /** Aborting it while the pools start stops them and rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Stop every instance gracefully on SIGINT/SIGTERM, then end the process with the signal, when
   * nothing else in the process listens for that signal. @default true
   */
  handleSignals?: boolean;
  /**
   * Development: on a change of the pools' Python sources, replace their workers on the recycle path and
   * regenerate `typesOut`; an edit that does not import keeps the old workers (guides/typed-tools.md). @default false
   */
  watch?: boolean | WatchOptions;
}

/** Options of `Snakepit.runAsScript`. */
export interface RunAsScriptOptions extends StartOptions, ScriptModeOptions {
  /** The config; without it, `snakepit.config.*` from `cwd`. */
  config?: SnakepitConfigInput;
}
