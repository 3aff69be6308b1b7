// deploy/Dockerfile: no problems found by a Dockerfile linter (dockerfile-utils, offline), and consistent
// with the repository: every COPY source exists, the entry point is the bridge's snakepit-worker command.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';

const DOCKERFILE = path.resolve('deploy/Dockerfile');
const text = readFileSync(DOCKERFILE, 'utf8');

describe('deploy/Dockerfile', () => {
  it('has no problems the linter finds', () => {
    expect(validate(text).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it('the linter is real: a broken Dockerfile gets diagnostics', () => {
    expect(validate(`${text}\nCOPY only-one-argument\nEXPOSE not-a-port\n`).length).toBeGreaterThanOrEqual(2);
  });

  it('copies only what exists in the build context (the repository root), with the ARG defaults', () => {
    const dockerfile = DockerfileParser.parse(text);
    const args = new Map(dockerfile.getARGs().map((a) => [a.getProperty()?.getName() ?? '', a.getProperty()?.getValue() ?? '']));
    const sources = dockerfile.getCOPYs().flatMap((copy) => copy.getArguments().slice(0, -1).map((a) => a.getValue().replace(/\$\{(\w+)\}/g, (_m, name: string) => args.get(name) ?? '')));
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.filter((s) => !existsSync(path.resolve(s)))).toEqual([]);
  });

  it('runs the snakepit-worker command that python/pyproject.toml declares', () => {
    const entrypoint = DockerfileParser.parse(text).getENTRYPOINTs()[0]!.getArgumentsContent();
    expect(entrypoint).toBe('["snakepit-worker"]');
    expect(readFileSync('python/pyproject.toml', 'utf8')).toContain('snakepit-worker = "snakepit_bridge.serve:main"');
  });
});
