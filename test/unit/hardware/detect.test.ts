// Hardware detection against fake nvidia-smi/rocm-smi/nvcc on PATH (real outputs), and on this machine.
import os from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHardware, Hardware, HardwareError } from '../../../src/index.js';
import { FakeTools } from '../../helpers/fake-tools.js';

/** `nvidia-smi --query-gpu=index,name,memory.total,memory.free,compute_cap,driver_version --format=csv,noheader,nounits` on a 2 × A100 host. */
export const NVIDIA_CSV_2_GPUS = '0, NVIDIA A100-SXM4-80GB, 81920, 81050, 8.0, 535.104.05\n1, NVIDIA A100-SXM4-80GB, 81920, 80011, 8.0, 535.104.05\n';

/** The banner of plain `nvidia-smi` on the same host (first lines). */
export const NVIDIA_BANNER = `Mon Jan 15 10:21:33 2024
+---------------------------------------------------------------------------------------+
| NVIDIA-SMI 535.104.05             Driver Version: 535.104.05   CUDA Version: 12.2     |
|-----------------------------------------+----------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id        Disp.A | Volatile Uncorr. ECC |
| Fan  Temp   Perf          Pwr:Usage/Cap |         Memory-Usage | GPU-Util  Compute M. |
|=========================================+======================+======================|
|   0  NVIDIA A100-SXM4-80GB          On  | 00000000:07:00.0 Off |                    0 |
| N/A   31C    P0              61W / 400W |      4MiB / 81920MiB |      0%      Default |
+-----------------------------------------+----------------------+----------------------+
`;

/** What nvidia-smi prints (exit code 9) when the kernel driver is not loaded. */
export const NVIDIA_NO_DRIVER =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n";

const CUDNN_HEADER = '#ifndef CUDNN_VERSION_H_\n#define CUDNN_MAJOR 8\n#define CUDNN_MINOR 9\n#define CUDNN_PATCHLEVEL 7\n#define CUDNN_VERSION (CUDNN_MAJOR * 1000 + CUDNN_MINOR * 100 + CUDNN_PATCHLEVEL)\n#endif\n';

/** `rocm-smi --showproductname --showmeminfo vram --showdriverversion --json` with two MI210s. */
export const ROCM_JSON_2_GPUS = JSON.stringify({
  card0: { 'VRAM Total Memory (B)': '68702699520', 'VRAM Total Used Memory (B)': '10960896', 'Card Series': 'AMD Instinct MI210', 'Card Model': '0x740f', 'Card Vendor': 'Advanced Micro Devices, Inc. [AMD/ATI]', 'GFX Version': 'gfx90a' },
  card1: { 'VRAM Total Memory (B)': '68702699520', 'VRAM Total Used Memory (B)': '2147483648', 'Card Series': 'AMD Instinct MI210', 'Card Model': '0x740f', 'Card Vendor': 'Advanced Micro Devices, Inc. [AMD/ATI]', 'GFX Version': 'gfx90a' },
  system: { 'Driver version': '6.7.0' },
});

describe('hardware detection with fake tools', () => {
  let fake: FakeTools;
  beforeEach(() => {
    fake = new FakeTools();
  });
  afterEach(() => fake.remove());

  it('reads 2 CUDA GPUs, the CUDA and driver versions and cuDNN', async () => {
    fake.tool('nvidia-smi', [{ when: '--query-gpu', stdout: NVIDIA_CSV_2_GPUS }, { stdout: NVIDIA_BANNER }]).file('cuda/include/cudnn_version.h', CUDNN_HEADER);
    const hw = createHardware({ env: fake.env });
    const info = await hw.detect();
    expect(info.accelerator).toBe('cuda');
    expect(info.cuda).toStrictEqual({
      version: '12.2',
      driverVersion: '535.104.05',
      cudnnVersion: '8.9.7',
      devices: [
        { id: 0, name: 'NVIDIA A100-SXM4-80GB', memoryTotalMb: 81920, memoryFreeMb: 81050, computeCapability: '8.0' },
        { id: 1, name: 'NVIDIA A100-SXM4-80GB', memoryTotalMb: 81920, memoryFreeMb: 80011, computeCapability: '8.0' },
      ],
    });
    expect(info.rocm).toBeNull();
    expect(info.warnings).toEqual([]);
    expect(await hw.capabilities()).toMatchObject({ cuda: true, mps: false, rocm: false, cudaVersion: '12.2', cudnnVersion: '8.9.7', cudnn: true });
    expect(await hw.identity()).toMatchObject({ accelerator: 'cuda', gpuCount: 2, cudaVersion: '12.2', cudnnVersion: '8.9.7', driverVersion: '535.104.05', rocmVersion: null });
  });

  it('treats "NVIDIA-SMI has failed ... driver" as no CUDA, with a warning', async () => {
    fake.tool('nvidia-smi', [{ stdout: NVIDIA_NO_DRIVER, exitCode: 9 }]);
    const info = await createHardware({ env: fake.env }).detect();
    expect(info).toMatchObject({ accelerator: 'cpu', cuda: null });
    expect(info.warnings).toHaveLength(1);
    expect(info.warnings[0]).toContain("couldn't communicate with the NVIDIA driver");
  });

  it.each([
    ['text that is not CSV', 'Segmentation fault (core dumped)\n'],
    ['CSV with the wrong fields', 'GPU-8d2d, on, 0x1\n'],
    ['binary noise', '\u0000\u0001\u00ff\n'],
  ])('treats garbage output (%s) as no CUDA, with a warning', async (_label, stdout) => {
    fake.tool('nvidia-smi', [{ stdout }]);
    const info = await createHardware({ env: fake.env }).detect();
    expect(info).toMatchObject({ accelerator: 'cpu', cuda: null });
    expect(info.warnings).toEqual([expect.stringContaining('nvidia-smi printed lines we could not read')]);
  });

  it('asks again without compute_cap on drivers too old to know it, and takes nvcc for the CUDA version', async () => {
    fake
      .tool('nvidia-smi', [
        { when: 'compute_cap', stdout: 'Field "compute_cap" is not a valid field to query.\n\n', exitCode: 2 },
        { when: '--query-gpu', stdout: '0, Tesla K80, 11441, 11372, 470.182.03\n' },
        { stdout: 'no banner here\n' },
      ])
      .tool('nvcc', [{ stdout: 'nvcc: NVIDIA (R) Cuda compiler driver\nCopyright (c) 2005-2023 NVIDIA Corporation\nCuda compilation tools, release 11.4, V11.4.152\nBuild cuda_11.4.r11.4/compiler.30521435_0\n' }]);
    const info = await createHardware({ env: fake.env }).detect();
    expect(info.cuda).toStrictEqual({ version: '11.4', driverVersion: '470.182.03', cudnnVersion: null, devices: [{ id: 0, name: 'Tesla K80', memoryTotalMb: 11441, memoryFreeMb: 11372, computeCapability: null }] });
    expect(info.warnings).toEqual([]);
  });

  it('keeps a GPU whose free memory is [N/A] (MIG)', async () => {
    fake.tool('nvidia-smi', [{ when: '--query-gpu', stdout: '0, NVIDIA H100 80GB HBM3, 81559, [N/A], 9.0, 550.54.15\n' }, { stdout: NVIDIA_BANNER }]);
    const info = await createHardware({ env: fake.env }).detect();
    expect(info.cuda?.devices).toEqual([{ id: 0, name: 'NVIDIA H100 80GB HBM3', memoryTotalMb: 81559, memoryFreeMb: null, computeCapability: '9.0' }]);
  });

  it('gives up on a hanging nvidia-smi after timeoutMs, with a warning', async () => {
    fake.tool('nvidia-smi', [{ hang: true, stdout: '' }]);
    const info = await createHardware({ env: fake.env, timeoutMs: 300 }).detect();
    expect(info.cuda).toBeNull();
    expect(info.warnings).toEqual([expect.stringContaining('did not answer within 300 ms')]);
  });

  it('reads 2 ROCm GPUs and the ROCm version', async () => {
    fake.tool('rocm-smi', [{ stdout: ROCM_JSON_2_GPUS }]).file('rocm/.info/version', '6.2.4-121\n');
    const hw = createHardware({ env: fake.env });
    const info = await hw.detect();
    expect(info.accelerator).toBe('rocm');
    expect(info.rocm).toStrictEqual({
      version: '6.2.4',
      devices: [
        { id: 0, name: 'AMD Instinct MI210', memoryTotalMb: 65520, memoryFreeMb: 65509 },
        { id: 1, name: 'AMD Instinct MI210', memoryTotalMb: 65520, memoryFreeMb: 63472 },
      ],
    });
    expect(await hw.select('auto')).toBe('rocm:0');
    expect(await hw.select({ rocm: 1 })).toBe('rocm:1');
  });

  it('falls back to the driver version without ROCM_PATH/.info/version', async () => {
    fake.tool('rocm-smi', [{ stdout: ROCM_JSON_2_GPUS }]);
    expect((await createHardware({ env: fake.env }).detect()).rocm?.version).toBe('6.7.0');
  });

  it.each([
    ['a failing rocm-smi', 'ERROR:root:Driver not initialized (amdgpu not found in modules)\n', 2, 'ROCm not available'],
    ['garbage', '====== ROCm System Management Interface ======\nnot json\n', 0, 'rocm-smi printed output we could not read'],
  ])('treats %s as no ROCm, with a warning', async (_label, stdout, exitCode, warning) => {
    fake.tool('rocm-smi', [{ stdout, exitCode }]);
    const info = await createHardware({ env: fake.env }).detect();
    expect(info).toMatchObject({ accelerator: 'cpu', rocm: null });
    expect(info.warnings).toEqual([expect.stringContaining(warning)]);
  });

  it('prefers CUDA to ROCm when both are there', async () => {
    fake.tool('nvidia-smi', [{ when: '--query-gpu', stdout: NVIDIA_CSV_2_GPUS }, { stdout: NVIDIA_BANNER }]).tool('rocm-smi', [{ stdout: ROCM_JSON_2_GPUS }]);
    const hw = createHardware({ env: fake.env });
    expect((await hw.detect()).accelerator).toBe('cuda');
    expect(await hw.identity()).toMatchObject({ gpuCount: 4 });
  });

  it('is MPS on macOS arm64, without probing for NVIDIA or AMD tools', async () => {
    fake.tool('nvidia-smi', [{ when: '--query-gpu', stdout: NVIDIA_CSV_2_GPUS }, { stdout: NVIDIA_BANNER }]);
    const hw = createHardware({ env: fake.env, platform: 'darwin', arch: 'arm64' });
    const info = await hw.detect();
    expect(info).toMatchObject({ accelerator: 'mps', platform: 'darwin-arm64', cuda: null, mps: { available: true } });
    expect(fake.calls('nvidia-smi')).toBe(0);
    expect(await hw.select('auto')).toBe('mps');
    expect(await hw.capabilities()).toMatchObject({ mps: true, cuda: false });
  });

  it('is CPU with MPS unavailable on an Intel Mac', async () => {
    const info = await createHardware({ env: fake.env, platform: 'darwin', arch: 'x64' }).detect();
    expect(info).toMatchObject({ accelerator: 'cpu', platform: 'darwin-x86_64', mps: { available: false } });
    await expect(createHardware({ env: fake.env, platform: 'darwin', arch: 'x64' }).select('mps')).rejects.toBeInstanceOf(HardwareError);
  });

  it('caches the detection until clearCache()', async () => {
    fake.tool('nvidia-smi', [{ when: '--query-gpu', stdout: NVIDIA_CSV_2_GPUS }, { stdout: NVIDIA_BANNER }]);
    const hw = createHardware({ env: fake.env });
    const [a, b] = await Promise.all([hw.detect(), hw.detect()]);
    expect(b).toBe(a);
    await hw.capabilities();
    expect(fake.calls('nvidia-smi')).toBe(2);
    hw.clearCache();
    expect(await hw.detect()).not.toBe(a);
    expect(fake.calls('nvidia-smi')).toBe(4);
  });

  it('has nothing but the CPU when no tool is on PATH, and no warning', async () => {
    const info = await createHardware({ env: fake.env }).detect();
    expect(info).toMatchObject({ accelerator: 'cpu', cuda: null, rocm: null, mps: null, warnings: [] });
  });
});

describe('hardware detection on this machine', () => {
  it('describes the real CPU; accelerators agree with what was found', async () => {
    Hardware.clearCache();
    const info = await Hardware.detect();
    expect(info.platform).toMatch(/^[a-z0-9]+-[a-z0-9_]+$/);
    expect(info.cpu.threads).toBe(os.cpus().length);
    expect(info.cpu.cores).toBeGreaterThanOrEqual(1);
    expect(info.cpu.cores).toBeLessThanOrEqual(info.cpu.threads);
    expect(info.cpu.model).not.toBe('');
    expect(info.cpu.memoryTotalMb).toBe(Math.floor(os.totalmem() / 2 ** 20));
    if (process.arch === 'x64') expect(info.cpu.features).toEqual(expect.arrayContaining(['sse', 'sse2']));
    const expected = info.cuda ? 'cuda' : info.mps?.available ? 'mps' : info.rocm ? 'rocm' : 'cpu';
    expect(info.accelerator).toBe(expected);
    expect(await Hardware.select('cpu')).toBe('cpu');
    expect(await Hardware.selectWithFallback(['cuda', 'mps', 'rocm', 'cpu'])).toBe(await Hardware.select('auto'));
  });

  it('falls back to systeminformation when cpuinfo cannot be read', async () => {
    const cpu = (await createHardware({ cpuinfoPath: '/nonexistent/cpuinfo' }).detect()).cpu;
    const fromProc = (await Hardware.detect()).cpu;
    expect(cpu.threads).toBe(os.cpus().length);
    expect(cpu.cores).toBeGreaterThanOrEqual(1);
    expect(cpu.model).not.toBe('');
    if (process.platform === 'linux' && process.arch === 'x64') expect(cpu.features).toEqual(fromProc.features);
  });
});
