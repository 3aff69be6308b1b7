// The fault-tolerance and hardware examples run through `snakepit run`, as the guides tell users to.
import { describe, expect, it } from 'vitest';
import { runExample } from '../helpers/examples.js';

describe('guide examples', () => {
  it('examples/fault-tolerance.ts with examples/fault-tolerance.config.ts: typed errors, breaker, retry, batch, health', async () => {
    const r = await runExample('examples/fault-tolerance.ts', { config: 'examples/fault-tolerance.config.ts' });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const lines = (pattern: RegExp) => r.stdout.match(new RegExp(pattern.source, 'gm')) ?? [];
    expect(r.stdout).toMatch(/^python KeyError\s+\{"name":"PythonKeyError","code":"python_error","exceptionType":"KeyError"\}$/m);
    expect(r.stdout).toMatch(/^shape mismatch\s+\{"name":"ShapeMismatchError","code":"shape_mismatch","expected":\[3,5\],"got":\[4,5\],"dimension":0\}$/m);
    expect(r.stdout).toMatch(/^out of memory\s+\{"code":"out_of_memory","device":"cuda:0","requestedBytes":2147483648,"availableBytes":1073741824\}$/m);
    expect(lines(/^failed call\s+\{"code":"call_timeout"\}$/)).toHaveLength(2);
    expect(r.stdout).toMatch(/^ALERT breaker showcase opened after 2 failures$/m);
    expect(r.stdout).toMatch(/^ {2}event circuit_breaker\.opened\s+\{"failureCount":2\}$/m);
    expect(r.stdout).toMatch(/^refused\s+\{"code":"circuit_open","state":"open"\}$/m);
    expect(r.stdout).toMatch(/^after reset timeout\s+"half-open"$/m);
    expect(r.stdout).toMatch(/^after a good probe\s+"closed"$/m);
    expect(r.stdout).toMatch(/^retry call_timeout\?\s+true$/m);
    expect(r.stdout).toMatch(/^attempts left after 2\?\s+true$/m);
    expect(r.stdout).toMatch(/^backoff after 2 \(ms\)\s+200$/m);
    expect(r.stdout).toMatch(/^timeout\s+\{"code":"call_timeout"\}$/m);
    expect(r.stdout).toMatch(/^ {2}event retry\.attempt\s+\{"attempt":1,"delayMs":\d+\}$/m);
    expect(r.stdout).toMatch(/^retried result\s+\{"slept_ms":300\}$/m);
    expect(r.stdout).toMatch(/^protected calls\s+\[4,"pong"\]$/m);
    expect(r.stdout).toMatch(/^batch\s+\[3,"python_error",7\]$/m);
    expect(r.stdout).toMatch(/^pool health\s+\{"healthy":true,"crashesInWindow":1\}$/m);
    expect(r.stdout).toMatch(/^worker-x health\s+\{"healthy":true,"crashCount":1,"crashReasons":\[\{"reason":"segfault"\}\]\}$/m);
    // The config file was loaded: the pool breaker is on with the values it sets.
    expect(r.stdout).toMatch(/^pool breaker config\s+\{"enabled":true,"failureThreshold":5,"resetTimeoutMs":30000,"halfOpenMaxCalls":1\}$/m);
  });

  it('examples/hardware.ts: detection, selection with fallback, identity, the device sent to Python', async () => {
    const r = await runExample('examples/hardware.ts');
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const accelerator = /^accelerator\s+"(cpu|cuda|mps|rocm)"$/m.exec(r.stdout)?.[1];
    expect(accelerator).toBeDefined();
    const device = /^device\s+"([^"]+)"$/m.exec(r.stdout)?.[1];
    expect(device).toBe(accelerator === 'cpu' || accelerator === 'rocm' ? 'cpu' : accelerator === 'mps' ? 'mps' : 'cuda:0');
    const auto = /^auto\s+"([^"]+)"$/m.exec(r.stdout)?.[1];
    expect(auto).toBe(accelerator === 'cpu' ? 'cpu' : accelerator === 'mps' ? 'mps' : `${accelerator}:0`);
    expect(r.stdout).toMatch(/^cpu\s+\{"cores":\d+,"threads":\d+,"model":".+","features":\[.*\]\}$/m);
    expect(r.stdout).toMatch(/^select cuda:7\s+\{"code":"device_not_available"\}$/m);
    expect(r.stdout).toMatch(new RegExp(`^identity\\s+\\{"platform":"[^"]+","accelerator":"${accelerator}",`, 'm'));
    const gpuCount = /"gpuCount":(\d+)/.exec(r.stdout)?.[1];
    expect(r.stdout).toMatch(new RegExp(`^lock file gpus\\s+${gpuCount}$`, 'm'));
    // selectDevice(): CUDA only with cuDNN, then MPS, else the CPU.
    const caps = JSON.parse(/^capabilities\s+(\{.*\})$/m.exec(r.stdout)?.[1] ?? 'null') as { cuda: boolean; cudnn: boolean; mps: boolean };
    const sent = caps.cuda && caps.cudnn ? 'cuda:0' : caps.mps ? 'mps' : 'cpu';
    expect(r.stdout).toMatch(new RegExp(`^python got\\s+\\{.*"echoed":\\{"model":"resnet50","input":\\[1,2,3\\],"device":"${sent}"\\}`, 'm'));
  });
});
