/**
 * Large payloads: an 8 MiB Buffer echoed, per transport, beside the raw floors.
 * Hook for more payload rows (the 64 MB tensor of the data-plane issue): add an entry to
 * `largePayloads` below, or a section module of its own listed in bench/run.ts.
 */
import { compareLatency, knobs, rawGrpcTarget, rawTarget, row, snakepitTarget, type Row, type Section } from './common.js';

interface LargePayload {
  label: string;
  make: () => unknown;
}

/** Payloads echoed by this section; each gives the rows below. */
export const largePayloads: LargePayload[] = [{ label: '8 MiB echo', make: () => Buffer.alloc(8 * 1024 * 1024, 7) }];

export const largeSection: Section = {
  id: 'large',
  title: 'large payloads (floors: raw pipe + msgpack echo, raw grpc-js -> grpcio echo)',
  async run() {
    const rows: Row[] = [];
    for (const payload of largePayloads) {
      const value = payload.make();
      const [raw, rawGrpc, pipe, grpc] = await compareLatency(
        [() => rawTarget(1, value), () => rawGrpcTarget(1, value), () => snakepitTarget(0, 'pipe', value), () => snakepitTarget(0, 'grpc', value)],
        knobs.largeRounds,
        20,
        3,
      );
      rows.push(
        row('large', `${payload.label} p50, pipe transport`, 'ms', 'raw pipe', raw!.p50Us / 1000, pipe!.p50Us / 1000, '<= 1.2'),
        row('large', `${payload.label} p50, grpc transport`, 'ms', 'raw pipe', raw!.p50Us / 1000, grpc!.p50Us / 1000),
        row('large', `${payload.label} p50, grpc transport`, 'ms', 'raw grpc', rawGrpc!.p50Us / 1000, grpc!.p50Us / 1000, '<= 1.2'),
      );
    }
    return rows;
  },
};
