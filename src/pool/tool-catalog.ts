/**
 * "Which tools does this pool have?": one answer per pool, from its workers' handshakes (every
 * worker runs the same adapter; the latest handshake wins, so a pool rolled over to a new adapter
 * version shows its new tools). Also the one place the host's `unknown_tool` error is built.
 */
import { ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ReadyInfo, ToolSpec } from '../transport/types.js';

/** The `unknown_tool` error for `tool`, listing what is there. */
export function unknownToolError(tool: string, pool: string | null, available: readonly string[]): ValidationError {
  const names = [...available].sort();
  return new ValidationError(`Unknown tool '${tool}'${pool === null ? '' : ` in pool ${pool}`} (available: ${names.join(', ')})`, 'unknown_tool', { tool, pool, available: names });
}

/** A pool's tools. Empty (and checking nothing) until its first worker is ready. */
export class ToolCatalog {
  #specs: ToolSpec[] = [];
  #names: ReadonlySet<string> | undefined;
  /** The adapter routes names itself (its own `execute_tool`): Python decides what is unknown. */
  #dynamic = false;

  constructor(readonly pool: string) {}

  /** A worker's handshake: its tools become the pool's. */
  learn(info: Pick<ReadyInfo, 'tools' | 'dynamic_tools'>): void {
    this.#specs = info.tools;
    this.#names = new Set(info.tools.map((t) => t.name));
    this.#dynamic = info.dynamic_tools === true;
  }

  /** Every tool, as the workers described them. */
  list(): ToolSpec[] {
    return this.#specs;
  }

  /** One tool's spec; an unknown name throws `unknown_tool` listing the available ones. */
  describe(name: string): ToolSpec {
    const spec = this.#specs.find((t) => t.name === name);
    if (!spec) throw unknownToolError(name, this.pool, [...(this.#names ?? [])]);
    return spec;
  }

  /**
   * Logs one warning when an option (`toolTimeouts`) names tools the pool surely does not have: a
   * misspelt name would silently change nothing. `context.unknownTools` lists them.
   */
  warnUnknown(option: string, tools: readonly string[], logger: Logger): void {
    const unknown = tools.filter((tool) => this.refuse(tool));
    if (unknown.length === 0) return;
    const names = [...(this.#names ?? [])].sort().join(', ');
    logger.warn(`${option} of pool ${this.pool} names tools it does not have: ${unknown.join(', ')} (tools: ${names})`, { pool: this.pool, unknownTools: unknown });
  }

  /** The error for a call to `tool` when the pool surely has no such tool, else undefined. */
  refuse(tool: string): ValidationError | undefined {
    const names = this.#names;
    if (!names || this.#dynamic || names.has(tool)) return undefined;
    return unknownToolError(tool, this.pool, [...names]);
  }
}
