// Hardware detection: `npx snakepit run examples/hardware.ts`. Every code block of guides/hardware.md
// is a region of this file: detect CPU, CUDA, MPS and ROCm, pick a device with fallback, hand it to Python.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execute, Hardware, isSnakepitError } from 'snakepit';

/** Prints a label and a value as JSON, one line each: the test reads these lines. */
const show = (label: string, value: unknown) => console.log(`${label.padEnd(16)} ${JSON.stringify(value)}`);

// #region detect
const info = await Hardware.detect(); // cached; Hardware.clearCache() detects again
show('accelerator', info.accelerator); // 'cuda' | 'mps' | 'rocm' | 'cpu'
show('platform', info.platform); // 'linux-x86_64', 'darwin-arm64', ...
show('cpu', { cores: info.cpu.cores, threads: info.cpu.threads, model: info.cpu.model, features: info.cpu.features });
show('cuda', info.cuda); // null, or { version, driverVersion, cudnnVersion, devices: [...] }
show('mps', info.mps);
show('rocm', info.rocm);
if (info.warnings.length > 0) show('warnings', info.warnings); // why an accelerator reads as absent
// #endregion detect

// #region capabilities
const caps = await Hardware.capabilities();
show('capabilities', caps);
if (caps.cuda && caps.cudnn) console.log('Full CUDA acceleration available');
// #endregion capabilities

// #region select
const best = await Hardware.select('auto'); // 'cuda:0' | 'mps' | 'rocm:0' | 'cpu'
show('auto', best);
show('device info', await Hardware.deviceInfo(best)); // CUDA: { type, deviceId, name, memoryTotalMb, memoryFreeMb, computeCapability }
try {
  await Hardware.select({ cuda: 7 }); // 'cuda:7' where there is one
} catch (error) {
  if (isSnakepitError(error)) show('select cuda:7', { code: error.code }); // device_not_available
}
// #endregion select

// #region fallback
const device = await Hardware.selectWithFallback(['cuda', 'mps', 'cpu']);
show('device', device); // on a CUDA box 'cuda:0', on a Mac 'mps', otherwise 'cpu'
// #endregion fallback

// #region identity
const identity = await Hardware.identity();
show('identity', identity);
const lockFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'hw-')), 'hardware.lock');
await writeFile(lockFile, JSON.stringify(identity, null, 2));
show('lock file gpus', JSON.parse(await readFile(lockFile, 'utf8')).gpuCount);
// A lock file shared with the original (Elixir) Snakepit: its four snake_case keys.
show('original keys', await Hardware.identity({ keys: 'snake_case' })); // { platform, accelerator, cpu_features, gpu_count }
// #endregion identity

// #region workload
async function selectDevice(): Promise<string> {
  const caps = await Hardware.capabilities();
  if (caps.cuda && caps.cudnn) return Hardware.select('cuda');
  if (caps.mps) return Hardware.select('mps');
  return 'cpu';
}

// The showcase adapter's `echo` stands in for your inference tool: Python gets the device name
// PyTorch understands (`cuda:0`, `mps`, `cpu`) and can pass it to torch.device(device).
async function runInference(model: string, input: number[]) {
  return execute('echo', { model, input, device: await selectDevice() });
}

show('python got', await runInference('resnet50', [1, 2, 3]));
// #endregion workload
