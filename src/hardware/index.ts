/** Hardware detection and device selection. */
export { Hardware, createHardware, detectHardware, capabilitiesOf, identityOf, originalIdentityOf, platformString, DEFAULT_PROBE_TIMEOUT_MS, type HardwareApi } from './hardware.js';
export type { DeviceInfo } from './selector.js';
export type * from './types.js';
