/** gRPC transport: tiny-echo latency and throughput beside a raw grpc-js -> grpcio echo. */
import { compareLatency, compareThroughput, IN_FLIGHT, PIPELINE_DEPTH, POOL_SIZE, rawGrpcTarget, row, snakepitTarget, type Section } from './common.js';

export const grpcSection: Section = {
  id: 'grpc',
  title: 'grpc transport (floor: raw grpc-js -> grpcio echo, bench/python/raw_grpc_echo.py)',
  async run() {
    const s = 'grpc';
    const [raw, ours] = await compareLatency([() => rawGrpcTarget(1), () => snakepitTarget(0, 'grpc')]);
    const [rawT, oursT] = await compareThroughput([() => rawGrpcTarget(POOL_SIZE), () => snakepitTarget(PIPELINE_DEPTH, 'grpc')]);
    return [
      row(s, 'sequential echo p50', 'µs', 'raw grpc', raw!.p50Us, ours!.p50Us, '<= 1.2'),
      row(s, 'sequential echo p99', 'µs', 'raw grpc', raw!.p99Us, ours!.p99Us),
      row(s, 'host CPU per sequential call', 'µs', 'raw grpc', raw!.cpuUsPerCall, ours!.cpuUsPerCall),
      row(s, `throughput, ${POOL_SIZE} workers, ${IN_FLIGHT} in flight, depth ${PIPELINE_DEPTH}`, 'calls/s', 'raw grpc', rawT!.rate, oursT!.rate, '>= 0.83'),
      row(s, `host CPU per call, ${IN_FLIGHT} in flight`, 'µs', 'raw grpc', rawT!.cpuUsPerCall, oursT!.cpuUsPerCall),
    ];
  },
};
