// Device selection and the parsers behind detection, as pure functions.
import { describe, expect, it } from 'vitest';
import { HardwareError, platformString, type HardwareInfo } from '../../../src/index.js';
import { normaliseCpuFlags, parseCpuinfo } from '../../../src/hardware/cpu.js';
import { parseCudnnHeader, parseGpuCsv } from '../../../src/hardware/cuda.js';
import { parseRocmJson } from '../../../src/hardware/rocm.js';
import { describeDevice, selectDevice, selectDeviceWithFallback } from '../../../src/hardware/selector.js';

const cpu = { cores: 8, threads: 16, model: 'Intel Core i7-9700K', features: ['avx', 'avx2'] as const, memoryTotalMb: 32_768 };
const gpu = (id: number) => ({ id, name: 'RTX 3080', memoryTotalMb: 10_240, memoryFreeMb: 9_000, computeCapability: '8.6' });
const machine = (extra: Partial<HardwareInfo> = {}): HardwareInfo => ({
  accelerator: 'cpu',
  platform: 'linux-x86_64',
  cpu: { ...cpu, features: [...cpu.features] },
  cuda: null,
  mps: null,
  rocm: null,
  warnings: [],
  ...extra,
});
const cudaBox = machine({ accelerator: 'cuda', cuda: { version: '12.1', driverVersion: '535.104.05', cudnnVersion: '8.9.0', devices: [gpu(0), gpu(1)] } });
const mac = machine({ accelerator: 'mps', platform: 'darwin-arm64', mps: { available: true, deviceName: 'Apple M2', memoryTotalMb: 16_384 } });
const amdBox = machine({ accelerator: 'rocm', rocm: { version: '6.0', devices: [{ id: 0, name: 'MI210', memoryTotalMb: 65_520, memoryFreeMb: 65_000 }] } });

describe('select', () => {
  it.each([
    ['auto', cudaBox, 'cuda:0'],
    ['auto', mac, 'mps'],
    ['auto', amdBox, 'rocm:0'],
    ['auto', machine(), 'cpu'],
    ['cpu', cudaBox, 'cpu'],
    ['cuda', cudaBox, 'cuda:0'],
    [{ cuda: 1 }, cudaBox, 'cuda:1'],
    ['mps', mac, 'mps'],
    ['rocm', amdBox, 'rocm:0'],
  ] as const)('%j on %s -> %s', (preference, info, device) => {
    expect(selectDevice(info, preference)).toBe(device);
  });

  it.each([
    ['cuda', machine()],
    [{ cuda: 2 }, cudaBox],
    ['mps', cudaBox],
    ['rocm', mac],
    [{ rocm: 1 }, amdBox],
  ] as const)('%j is device_not_available', (preference, info) => {
    expect(() => selectDevice(info, preference)).toThrow(HardwareError);
    expect(() => selectDevice(info, preference)).toThrow(expect.objectContaining({ code: 'device_not_available', category: 'validation' }));
  });

  it('selectWithFallback takes the first available, or fails with no_device', () => {
    expect(selectDeviceWithFallback(cudaBox, ['mps', { cuda: 1 }, 'cpu'])).toBe('cuda:1');
    expect(selectDeviceWithFallback(machine(), ['cuda', 'mps', 'cpu'])).toBe('cpu');
    expect(() => selectDeviceWithFallback(machine(), ['cuda', 'mps'])).toThrow(expect.objectContaining({ code: 'no_device' }));
  });

  it('describes a selected device', () => {
    expect(describeDevice(cudaBox, 'cuda:1')).toStrictEqual({ type: 'cuda', device: 'cuda:1', deviceId: 1, name: 'RTX 3080', memoryTotalMb: 10_240, memoryFreeMb: 9_000, computeCapability: '8.6' });
    expect(describeDevice(mac, 'mps')).toMatchObject({ type: 'mps', deviceId: null, name: 'Apple M2', memoryTotalMb: 16_384 });
    expect(describeDevice(cudaBox, 'cpu')).toMatchObject({ type: 'cpu', name: 'Intel Core i7-9700K' });
    expect(describeDevice(machine(), 'cuda:3')).toMatchObject({ type: 'cuda', deviceId: 3, name: 'unknown' });
  });
});

const X86_CPUINFO = [0, 1, 2, 3]
  .map(
    (n) => `processor\t: ${n}
vendor_id\t: GenuineIntel
model name\t: Intel(R) Core(TM) i7-9700K CPU @ 3.60GHz
physical id\t: 0
core id\t\t: ${n % 2}
flags\t\t: fpu vme sse sse2 pni ssse3 fma sse4_1 sse4_2 popcnt avx f16c avx2 avx512f avx512dq avx512bw
`,
  )
  .join('\n');

const ARM_CPUINFO = `processor\t: 0
BogoMIPS\t: 48.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp
CPU implementer\t: 0x41

processor\t: 1
BogoMIPS\t: 48.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp
CPU implementer\t: 0x41
`;

describe('parsers', () => {
  it('reads an x86 cpuinfo: model, threads, physical cores, flags', () => {
    const info = parseCpuinfo(X86_CPUINFO);
    expect(info).toMatchObject({ model: 'Intel(R) Core(TM) i7-9700K CPU @ 3.60GHz', threads: 4, cores: 2 });
    expect(normaliseCpuFlags(info.flags ?? [])).toEqual(['sse', 'sse2', 'sse3', 'ssse3', 'sse4_1', 'sse4_2', 'avx', 'avx2', 'avx512', 'fma', 'f16c']);
  });

  it('reads an ARM cpuinfo without model or core ids, leaving them to the fallback', () => {
    const info = parseCpuinfo(ARM_CPUINFO);
    expect(info).toStrictEqual({ threads: 2, flags: expect.arrayContaining(['asimd']) as string[] });
    expect(normaliseCpuFlags(info.flags ?? [])).toEqual(['neon']);
  });

  it("normalises macOS and systeminformation spellings", () => {
    expect(normaliseCpuFlags(['SSE4.1', 'SSE4.2', 'AVX1.0', 'AVX2', 'AVX512F', 'FMA'])).toEqual(['sse4_1', 'sse4_2', 'avx', 'avx2', 'avx512', 'fma']);
  });

  it('reads nvidia-smi CSV, keeping a comma in a name and reporting unreadable lines', () => {
    const { devices, driverVersion, unreadable } = parseGpuCsv('0, NVIDIA GeForce RTX 3080, Laptop, 16384, 15000, 8.6, 550.54.15\nnot a gpu\n', true);
    expect(devices).toEqual([{ id: 0, name: 'NVIDIA GeForce RTX 3080, Laptop', memoryTotalMb: 16384, memoryFreeMb: 15000, computeCapability: '8.6' }]);
    expect(driverVersion).toBe('550.54.15');
    expect(unreadable).toEqual(['not a gpu']);
  });

  it('reads rocm-smi JSON after warnings, with keys in any case; undefined when not JSON', () => {
    const out = 'WARNING: AMD GPU device(s) is/are in a low-power state. Check power control/runtime_status\n' + JSON.stringify({ card0: { 'vram total memory (b)': '1073741824', 'Card series': 'Radeon RX 7900 XTX' } });
    expect(parseRocmJson(out)?.devices).toEqual([{ id: 0, name: 'Radeon RX 7900 XTX', memoryTotalMb: 1024, memoryFreeMb: 1024 }]);
    expect(parseRocmJson('not json')).toBeUndefined();
    expect(parseRocmJson('[1, 2]')).toBeUndefined();
  });

  it('reads the cuDNN version header, old and new', () => {
    expect(parseCudnnHeader('#define CUDNN_MAJOR 9\n#define CUDNN_MINOR 1\n#define CUDNN_PATCHLEVEL 0\n')).toBe('9.1.0');
    expect(parseCudnnHeader('#define CUDNN_MAJOR 7\n#define CUDNN_MINOR 6\n')).toBe('7.6');
    expect(parseCudnnHeader('nothing')).toBeUndefined();
  });

  it.each([
    ['linux', 'x64', 'linux-x86_64'],
    ['linux', 'arm64', 'linux-aarch64'],
    ['darwin', 'arm64', 'darwin-arm64'],
    ['win32', 'x64', 'win32-x86_64'],
  ])('platformString(%s, %s) is %s', (platform, arch, expected) => {
    expect(platformString(platform, arch)).toBe(expected);
  });
});
