// `snakepit doctor`: every check pass/warn/fail with a fix; exit 1 when one fails (broken adapter, busy port, bad config).
import { execa } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/python/doctor.js';
import { cli, json } from '../helpers/cli.js';

const FIXTURES = path.resolve('test/fixtures/python');
const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-doctor-'));
const config = (name: string, value: unknown) => {
  const file = path.join(dir, `${name}.config.json`);
  writeFileSync(file, JSON.stringify(value));
  return file;
};
const echoPool = { name: 'echo', poolSize: 1, adapter: 'echo_adapter.EchoAdapter', pythonPath: [FIXTURES] };

describe('snakepit doctor', () => {
  const servers: net.Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  it('passes on a healthy setup and reports every check in --json', async () => {
    const r = await cli(['doctor', '--json', '--config', config('healthy', { pools: [echoPool] })]);
    const report = json<DoctorReport>(r);
    expect(r.exitCode).toBe(0);
    expect(report).toMatchObject({ ok: true, counts: { fail: 0 } });
    expect(report.checks.map((c) => c.id)).toEqual(expect.arrayContaining(['node', 'config', 'python', 'venv', 'bridge', 'grpc', 'requirements', 'adapter', 'run_dir']));
    expect(report.checks.find((c) => c.id === 'adapter')).toMatchObject({ pool: 'echo', status: 'pass' });
    for (const check of report.checks) {
      expect(['pass', 'warn', 'fail']).toContain(check.status);
      if (check.status !== 'pass') expect(check.fix).toEqual(expect.any(String));
    }
  });

  it("checks the config's python.requirements: met passes, unmet fails with the fix", async () => {
    const met = path.join(dir, 'met.txt');
    const unmet = path.join(dir, 'unmet.txt');
    writeFileSync(met, 'msgpack\n');
    writeFileSync(unmet, 'msgpack\nsnakepit-no-such-package==1.0\n');
    const ok = json<DoctorReport>(await cli(['doctor', '--json', '--config', config('req-met', { pools: [echoPool], python: { requirements: [met] } })]));
    expect(ok.checks.find((c) => c.id === 'project_requirements')).toMatchObject({ status: 'pass' });
    const r = await cli(['doctor', '--json', '--config', config('req-unmet', { pools: [echoPool], python: { requirements: [unmet] } })]);
    expect(r.exitCode).toBe(1);
    const check = json<DoctorReport>(r).checks.find((c) => c.id === 'project_requirements');
    expect(check).toMatchObject({ status: 'fail', fix: expect.stringContaining('snakepit setup') });
    expect(check!.message).toContain('snakepit-no-such-package==1.0');
  });

  it('fails a pool whose adapter does not import, with the fix on the next line, and exits 1', async () => {
    const file = config('broken', {
      pools: [echoPool, { name: 'broken', poolSize: 1, adapter: 'broken_import_adapter.Broken', pythonPath: [FIXTURES] }],
    });
    const text = await cli(['doctor', '--config', file]);
    expect(text.exitCode).toBe(1);
    const lines = text.stdout.split('\n');
    const failed = lines.findIndex((l) => /fail\s+adapter \[broken\]/.test(l));
    expect(failed).toBeGreaterThan(-1);
    expect(lines[failed + 1]?.trim()).toMatch(/^fix: \S/);
    expect(lines.some((l) => /pass\s+adapter \[echo\]/.test(l))).toBe(true);

    const asJson = await cli(['doctor', '--json', '--config', file]);
    expect(asJson.exitCode).toBe(1);
    expect(json<DoctorReport>(asJson).checks.filter((c) => c.status === 'fail')).toEqual([
      expect.objectContaining({ id: 'adapter', pool: 'broken', fix: expect.any(String) }),
    ]);
  });

  it('points a missing adapter module at the pool pythonPath', async () => {
    const r = await cli(['doctor', '--json', '--config', config('missing', { pools: [{ name: 'lost', poolSize: 1, adapter: 'snakepit_nowhere.mod.Adapter' }] })]);
    const check = json<DoctorReport>(r).checks.find((c) => c.id === 'adapter');
    expect(check).toMatchObject({ pool: 'lost', status: 'fail' });
    expect(check?.fix).toContain('pythonPath');
  });

  it('fails when the configured grpcPort is taken', async () => {
    const server = net.createServer();
    servers.push(server);
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
    const r = await cli(['doctor', '--json', '--config', config('port', { grpcPort: port, pools: [echoPool] })]);
    expect(r.exitCode).toBe(1);
    expect(json<DoctorReport>(r).checks.find((c) => c.id === 'port')).toMatchObject({ status: 'fail', fix: expect.any(String) });
  });

  it('fails the config check for an invalid config and still checks the rest', async () => {
    const r = await cli(['doctor', '--json', '--config', config('invalid', { poolSize: 0 })]);
    const report = json<DoctorReport>(r);
    expect(r.exitCode).toBe(1);
    expect(report.checks.find((c) => c.id === 'config')).toMatchObject({ status: 'fail' });
    expect(report.checks.find((c) => c.id === 'python')).toMatchObject({ status: 'pass' });
  });

  it('exits 1 from the real binary too, with the JSON report on stdout', async () => {
    const file = config('broken-bin', { pools: [{ name: 'broken', poolSize: 1, adapter: 'broken_import_adapter.Broken', pythonPath: [FIXTURES] }] });
    const r = await execa(process.execPath, [path.resolve('bin/run.js'), 'doctor', '--json', '--config', file], { reject: false, timeout: 60_000 });
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false });
  });
});
