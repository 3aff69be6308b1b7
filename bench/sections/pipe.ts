/** Pipe transport: tiny-echo latency, throughput and host CPU per call, beside the raw pipe floor and the python-shell peer. */
import { compareLatency, compareThroughput, IN_FLIGHT, POOL_SIZE, pyShellTarget, rawTarget, row, snakepitTarget, type Section } from './common.js';

export const pipeSection: Section = {
  id: 'pipe',
  title: 'pipe transport (floor: raw pipe + msgpack echo, bench/python/raw_echo.py; peer: python-shell JSON mode, bench/python/pyshell_echo.py)',
  async run() {
    const s = 'pipe';
    // Ours with the default config (pipelineDepth 'auto'), and with pipelining off for reference.
    const [raw, ours, peer] = await compareLatency([() => rawTarget(1), () => snakepitTarget('auto'), () => pyShellTarget(1)]);
    const [rawT, oursT, oursOff, peerT] = await compareThroughput([
      () => rawTarget(POOL_SIZE),
      () => snakepitTarget('auto'),
      () => snakepitTarget(0),
      () => pyShellTarget(POOL_SIZE),
    ]);
    const tp = `throughput, ${POOL_SIZE} workers, ${IN_FLIGHT} in flight`;
    return [
      row(s, 'sequential echo p50', 'µs', 'raw pipe', raw!.p50Us, ours!.p50Us, '<= 1.05'),
      row(s, 'sequential echo p99', 'µs', 'raw pipe', raw!.p99Us, ours!.p99Us),
      row(s, 'sequential echo p50', 'µs', 'python-shell', peer!.p50Us, ours!.p50Us, '<= 1'),
      row(s, 'python-shell sequential echo p50', 'µs', 'raw pipe', raw!.p50Us, peer!.p50Us),
      row(s, 'python-shell sequential echo p99', 'µs', 'raw pipe', raw!.p99Us, peer!.p99Us),
      row(s, 'host CPU per sequential call', 'µs', 'raw pipe', raw!.cpuUsPerCall, ours!.cpuUsPerCall),
      row(s, 'python-shell host CPU per sequential call', 'µs', 'raw pipe', raw!.cpuUsPerCall, peer!.cpuUsPerCall),
      row(s, `${tp} (default config)`, 'calls/s', 'raw pipe', rawT!.rate, oursT!.rate, '>= 0.9'),
      row(s, `${tp} (default config)`, 'calls/s', 'python-shell', peerT!.rate, oursT!.rate, '>= 1'),
      row(s, `${tp} (pipelineDepth 0)`, 'calls/s', 'raw pipe', rawT!.rate, oursOff!.rate),
      row(s, `python-shell ${tp}`, 'calls/s', 'raw pipe', rawT!.rate, peerT!.rate),
      row(s, `host CPU per call, ${IN_FLIGHT} in flight (default config)`, 'µs', 'raw pipe', rawT!.cpuUsPerCall, oursT!.cpuUsPerCall),
      row(s, `host CPU per call, ${IN_FLIGHT} in flight (pipelineDepth 0)`, 'µs', 'raw pipe', rawT!.cpuUsPerCall, oursOff!.cpuUsPerCall),
      row(s, `python-shell host CPU per call, ${IN_FLIGHT} in flight`, 'µs', 'raw pipe', rawT!.cpuUsPerCall, peerT!.cpuUsPerCall),
    ];
  },
};
