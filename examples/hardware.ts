// Hardware detection: run with `npx snakepit run examples/hardware.ts` (mirrors guides/hardware.md).
// Detects CPU, CUDA, MPS and ROCm, picks a device with fallback and hands it to Python.
import { execute, Hardware, isSnakepitError } from 'snakepit';

const show = (label: string, value: unknown) => console.log(`${label.padEnd(16)} ${JSON.stringify(value)}`);

const info = await Hardware.detect();
show('accelerator', info.accelerator);
show('platform', info.platform);
show('cpu', { cores: info.cpu.cores, threads: info.cpu.threads, model: info.cpu.model, features: info.cpu.features });
show('cuda', info.cuda);
show('mps', info.mps);
show('rocm', info.rocm);
if (info.warnings.length > 0) show('warnings', info.warnings);

const caps = await Hardware.capabilities();
show('capabilities', caps);

// Best available, in the order the caller prefers; the CPU always is.
const device = await Hardware.selectWithFallback(['cuda', 'mps', 'rocm', 'cpu']);
show('device', device);
show('device info', await Hardware.deviceInfo(device));

try {
  await Hardware.select({ cuda: 7 });
} catch (error) {
  if (isSnakepitError(error)) show('select cuda:7', { code: error.code });
}

// For a lock file: what the environment was built for.
show('identity', await Hardware.identity());

// Python gets the device name PyTorch understands (`cuda:0`, `mps`, `cpu`).
show('python got', await execute('echo', { device }));
