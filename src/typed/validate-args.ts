/** Host-side `validateArgs`: a call's arguments against its tool's parameter types (the worker's handshake `types`), before it is queued. */
import { formatPath } from '../config/format-issues.js';
import { ValidationError } from '../errors.js';
import type { ToolSpec } from '../transport/types.js';
import { ValueChecker, type ValueIssue } from './check-value.js';
import type { HandshakeToolTypes } from './type-spec.js';
import { WireMapper, type WireType } from './wire-type.js';

/** One argument problem, in the shape of a config issue: the field, what it expects, what it got. */
export interface ArgIssue extends ValueIssue {
  message: string;
}

interface CompiledTool {
  checker: ValueChecker;
  params: { name: string; type: WireType; required: boolean }[];
  names: ReadonlySet<string>;
  extra: WireType | undefined;
}

const ARG_MAPPER = new WireMapper('arg');
// Per handshake tool list: the specs by name and their compiled checkers (a list lives as long as its worker).
const compiled = new WeakMap<readonly ToolSpec[], Map<string, CompiledTool | null>>();

/**
 * Checks `args` against tool `tool`'s parameters in `tools` (a worker's handshake list). Resolves
 * nothing to check (unknown tool, a worker that sent no `types`) as fine: the worker still checks.
 * @returns a `ValidationError` with code `invalid_args` and `details.issues`, or undefined.
 */
export function checkToolArgs(tools: readonly ToolSpec[], tool: string, args: Record<string, unknown>, pool: string): ValidationError | undefined {
  const entry = compiledTool(tools, tool);
  if (!entry) return undefined;
  const issues: ArgIssue[] = [];
  for (const param of entry.params) {
    const value = args[param.name];
    if (value === undefined) {
      if (param.required && !entry.checker.fits(undefined, param.type)) {
        issues.push(withMessage(entry.checker.issue(undefined, param.type, [param.name]), `Missing argument \`${param.name}\``));
      }
      continue;
    }
    issues.push(...entry.checker.check(value, param.type, [param.name]).map((i) => withMessage(i)));
  }
  for (const [key, value] of Object.entries(args)) {
    if (entry.names.has(key) || value === undefined) continue;
    if (entry.extra) issues.push(...entry.checker.check(value, entry.extra, [key]).map((i) => withMessage(i)));
    else {
      const expected = `one of the parameters (${[...entry.names].join(', ') || 'none'})`;
      issues.push({ path: formatPath([key]), expected, received: 'an extra argument', message: `Unexpected argument \`${formatPath([key])}\`: ${tool} takes ${expected}` });
    }
  }
  if (issues.length === 0) return undefined;
  const lines = issues.map((i) => `  - ${i.message}`).join('\n');
  return new ValidationError(`Invalid arguments for tool '${tool}' in pool ${pool}:\n${lines}`, 'invalid_args', { tool, pool, issues });
}

function withMessage(issue: ValueIssue, lead?: string): ArgIssue {
  const message = lead ? `${lead}: expected ${issue.expected}` : `Expected \`${issue.path}\` to be ${issue.expected}, got ${issue.received}`;
  return { ...issue, message };
}

function compiledTool(tools: readonly ToolSpec[], name: string): CompiledTool | null {
  let byName = compiled.get(tools);
  if (!byName) compiled.set(tools, (byName = new Map()));
  let entry = byName.get(name);
  if (entry === undefined) {
    const types = tools.find((t) => t.name === name)?.types;
    byName.set(name, (entry = types ? compile(types) : null));
  }
  return entry;
}

function compile(types: HandshakeToolTypes): CompiledTool | null {
  if (types.error !== undefined || !Array.isArray(types.params)) return null;
  const checker = new ValueChecker(types.definitions ?? {}, ARG_MAPPER);
  const params = types.params.map((p) => ({ name: p.name, type: ARG_MAPPER.map(p.type), required: p.required }));
  return { checker, params, names: new Set(params.map((p) => p.name)), extra: types.extra_params ? ARG_MAPPER.map(types.extra_params) : undefined };
}
