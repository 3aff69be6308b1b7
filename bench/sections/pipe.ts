/** Pipe transport: tiny-echo latency, throughput and host CPU per call, beside the raw pipe floor and the python-shell peer. */
import { compareLatency, compareThroughput, IN_FLIGHT, PIPELINE_DEPTH, POOL_SIZE, pyShellTarget, rawTarget, row, snakepitTarget, type Section } from './common.js';

export const pipeSection: Section = {
  id: 'pipe',
  title: 'pipe transport (floor: raw pipe + msgpack echo, bench/python/raw_echo.py; peer: python-shell JSON mode, bench/python/pyshell_echo.py)',
  async run() {
    const s = 'pipe';
    const [raw, ours, peer] = await compareLatency([() => rawTarget(1), () => snakepitTarget(0), () => pyShellTarget(1)]);
    const [rawT, oursT, oursDeep, peerT] = await compareThroughput([
      () => rawTarget(POOL_SIZE),
      () => snakepitTarget(0),
      () => snakepitTarget(PIPELINE_DEPTH),
      () => pyShellTarget(POOL_SIZE),
    ]);
    const tp = `throughput, ${POOL_SIZE} workers, ${IN_FLIGHT} in flight`;
    return [
      row(s, 'sequential echo p50', 'µs', 'raw pipe', raw!.p50Us, ours!.p50Us, '<= 1.3'),
      row(s, 'sequential echo p99', 'µs', 'raw pipe', raw!.p99Us, ours!.p99Us),
      row(s, 'sequential echo p50', 'µs', 'python-shell', peer!.p50Us, ours!.p50Us, '<= 1'),
      row(s, 'python-shell sequential echo p50', 'µs', 'raw pipe', raw!.p50Us, peer!.p50Us),
      row(s, 'python-shell sequential echo p99', 'µs', 'raw pipe', raw!.p99Us, peer!.p99Us),
      row(s, 'host CPU per sequential call', 'µs', 'raw pipe', raw!.cpuUsPerCall, ours!.cpuUsPerCall),
      row(s, 'python-shell host CPU per sequential call', 'µs', 'raw pipe', raw!.cpuUsPerCall, peer!.cpuUsPerCall),
      row(s, `${tp} (pipelineDepth 0)`, 'calls/s', 'raw pipe', rawT!.rate, oursT!.rate, '>= 0.8'),
      row(s, `${tp} (pipelineDepth ${PIPELINE_DEPTH})`, 'calls/s', 'raw pipe', rawT!.rate, oursDeep!.rate, '>= 0.8'),
      row(s, `${tp} (pipelineDepth 0)`, 'calls/s', 'python-shell', peerT!.rate, oursT!.rate, '>= 1'),
      row(s, `${tp} (pipelineDepth ${PIPELINE_DEPTH})`, 'calls/s', 'python-shell', peerT!.rate, oursDeep!.rate, '>= 1'),
      row(s, `python-shell ${tp}`, 'calls/s', 'raw pipe', rawT!.rate, peerT!.rate),
      row(s, `host CPU per call, ${IN_FLIGHT} in flight (pipelineDepth 0)`, 'µs', 'raw pipe', rawT!.cpuUsPerCall, oursT!.cpuUsPerCall),
      row(s, `host CPU per call, ${IN_FLIGHT} in flight (pipelineDepth ${PIPELINE_DEPTH})`, 'µs', 'raw pipe', rawT!.cpuUsPerCall, oursDeep!.cpuUsPerCall),
      row(s, `python-shell host CPU per call, ${IN_FLIGHT} in flight`, 'µs', 'raw pipe', rawT!.cpuUsPerCall, peerT!.cpuUsPerCall),
    ];
  },
};
