/** Device selection (the original's `Hardware.Selector`): pure functions of a `HardwareInfo`. */
import { HardwareError } from '../errors.js';
import type { Device, DevicePreference, HardwareInfo } from './types.js';

/** The device `preference` names on this hardware, or undefined when it is not there. */
export function resolveDevice(info: HardwareInfo, preference: DevicePreference): Device | undefined {
  if (typeof preference === 'object' && preference !== null) {
    if ('cuda' in preference) return info.cuda?.devices.some((d) => d.id === preference.cuda) ? `cuda:${preference.cuda}` : undefined;
    if ('rocm' in preference) return info.rocm?.devices.some((d) => d.id === preference.rocm) ? `rocm:${preference.rocm}` : undefined;
    return undefined;
  }
  switch (preference) {
    case 'cpu':
      return 'cpu';
    case 'cuda':
      return info.cuda?.devices[0] ? `cuda:${info.cuda.devices[0].id}` : undefined;
    case 'rocm':
      return info.rocm?.devices[0] ? `rocm:${info.rocm.devices[0].id}` : undefined;
    case 'mps':
      return info.mps?.available ? 'mps' : undefined;
    case 'auto':
      // Priority CUDA > MPS > ROCm > CPU, the order `accelerator` follows.
      return resolveDevice(info, 'cuda') ?? resolveDevice(info, 'mps') ?? resolveDevice(info, 'rocm') ?? 'cpu';
    default:
      return undefined;
  }
}

/** `select`: the device, or `HardwareError` with code `device_not_available`. */
export function selectDevice(info: HardwareInfo, preference: DevicePreference): Device {
  const device = resolveDevice(info, preference);
  if (device === undefined) {
    throw new HardwareError(`Device ${describe(preference)} is not available (accelerator: ${info.accelerator})`, 'device_not_available', {
      preference,
      accelerator: info.accelerator,
    });
  }
  return device;
}

/** `selectWithFallback`: the first available of `preferences`, or `HardwareError` with code `no_device`. */
export function selectDeviceWithFallback(info: HardwareInfo, preferences: readonly DevicePreference[]): Device {
  for (const preference of preferences) {
    const device = resolveDevice(info, preference);
    if (device !== undefined) return device;
  }
  throw new HardwareError(`None of the devices ${preferences.map(describe).join(', ')} is available`, 'no_device', { preferences, accelerator: info.accelerator });
}

/** What a selected device is, for logs and telemetry (the original's `device_info`). */
export interface DeviceInfo {
  type: 'cpu' | 'cuda' | 'mps' | 'rocm';
  device: Device;
  deviceId: number | null;
  name: string;
  memoryTotalMb: number | null;
  memoryFreeMb: number | null;
  computeCapability: string | null;
}

/** Details of `device` on this hardware; name 'unknown' when the device is not there. */
export function describeDevice(info: HardwareInfo, device: Device): DeviceInfo {
  const [type, idText] = device.split(':') as [DeviceInfo['type'], string | undefined];
  const deviceId = idText === undefined ? null : Number(idText);
  const base = { type, device, deviceId, name: 'unknown', memoryTotalMb: null, memoryFreeMb: null, computeCapability: null };
  if (type === 'cpu') return { ...base, name: info.cpu.model, memoryTotalMb: info.cpu.memoryTotalMb };
  if (type === 'mps') return info.mps ? { ...base, name: info.mps.deviceName, memoryTotalMb: info.mps.memoryTotalMb } : base;
  if (type === 'cuda') {
    const d = info.cuda?.devices.find((x) => x.id === deviceId);
    return d ? { ...base, name: d.name, memoryTotalMb: d.memoryTotalMb, memoryFreeMb: d.memoryFreeMb, computeCapability: d.computeCapability } : base;
  }
  const d = info.rocm?.devices.find((x) => x.id === deviceId);
  return d ? { ...base, name: d.name, memoryTotalMb: d.memoryTotalMb, memoryFreeMb: d.memoryFreeMb } : base;
}

function describe(preference: DevicePreference): string {
  return typeof preference === 'object' ? ('cuda' in preference ? `cuda:${preference.cuda}` : `rocm:${preference.rocm}`) : preference;
}
