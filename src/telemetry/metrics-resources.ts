/**
 * Metric families of resources and their lifecycles: hardware detection, the GPU profiler's
 * samples (in bytes, ratios, °C, W), sessions (live count, created, ended, affinity) and worker
 * recycling (with the memory figures). Prometheus names in base units; fed by bus events, the
 * live session count read from the session stores at scrape time.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { SessionStore } from '../session/session-store.js';
import { attach } from './bus.js';
import { label, summary } from './metrics-resilience.js';

const MIB = 1_048_576;

/** Hardware: detection and selection times, detection cache hits and misses. */
function hardwareMetrics(registry: Registry): void {
  const detect = summary(registry, 'snakepit_hardware_detect_duration_seconds', 'Duration of hardware detection (probes run).', ['accelerator', 'platform']);
  const select = summary(registry, 'snakepit_hardware_select_duration_seconds', 'Duration of device selection, by device chosen (none: nothing fit).', ['device']);
  const hits = new Counter({ name: 'snakepit_hardware_cache_hits_total', help: 'Hardware detections answered from the cache.', registers: [registry] });
  const misses = new Counter({ name: 'snakepit_hardware_cache_misses_total', help: 'Hardware detections that ran the probes.', registers: [registry] });
  attach(
    'snakepit-metrics-hardware',
    ['snakepit.hardware.detect.stop', 'snakepit.hardware.select.stop', 'snakepit.hardware.cache.hit', 'snakepit.hardware.cache.miss'],
    (event, measurements, metadata) => {
      const seconds = ((measurements as { durationMs?: number }).durationMs ?? 0) / 1000;
      if (event === 'snakepit.hardware.cache.hit') hits.inc();
      else if (event === 'snakepit.hardware.cache.miss') misses.inc();
      else if (event === 'snakepit.hardware.detect.stop') {
        const m = metadata as { accelerator?: string; platform?: string };
        detect.observe({ accelerator: label(m.accelerator), platform: label(m.platform) }, seconds);
      } else select.observe({ device: label((metadata as { device?: string }).device) }, seconds);
    },
  );
}

/** GPU profiler samples as gauges per device. */
function gpuMetrics(registry: Registry): void {
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ['device'], registers: [registry] });
  const used = gauge('snakepit_gpu_memory_used_bytes', 'GPU memory in use.');
  const total = gauge('snakepit_gpu_memory_total_bytes', 'GPU memory in all.');
  const free = gauge('snakepit_gpu_memory_free_bytes', 'GPU memory free.');
  const utilization = gauge('snakepit_gpu_utilization_ratio', 'Share of time the GPU was busy (0..1).');
  const memoryUtilization = gauge('snakepit_gpu_memory_utilization_ratio', 'Share of time the GPU memory controller was busy (0..1).');
  const temperature = gauge('snakepit_gpu_temperature_celsius', 'GPU temperature.');
  const power = gauge('snakepit_gpu_power_watts', 'GPU power draw.');
  const powerLimit = gauge('snakepit_gpu_power_limit_watts', 'GPU power limit.');
  const set = (g: Gauge<'device'>, device: string, value: number | undefined, scale = 1) => value !== undefined && g.set({ device }, value * scale);
  attach(
    'snakepit-metrics-gpu',
    ['snakepit.gpu.memory.sampled', 'snakepit.gpu.utilization.sampled', 'snakepit.gpu.temperature.sampled', 'snakepit.gpu.power.sampled'],
    (event, measurements, metadata) => {
      const device = label(metadata.device);
      const m = measurements as Partial<Record<'usedMb' | 'totalMb' | 'freeMb' | 'gpuPercent' | 'memoryPercent' | 'celsius' | 'watts' | 'limitWatts', number>>;
      if (event === 'snakepit.gpu.memory.sampled') {
        set(used, device, m.usedMb, MIB);
        set(total, device, m.totalMb, MIB);
        set(free, device, m.freeMb, MIB);
      } else if (event === 'snakepit.gpu.utilization.sampled') {
        set(utilization, device, m.gpuPercent, 0.01);
        set(memoryUtilization, device, m.memoryPercent, 0.01);
      } else if (event === 'snakepit.gpu.temperature.sampled') set(temperature, device, m.celsius);
      else {
        set(power, device, m.watts);
        set(powerLimit, device, m.limitWatts);
      }
    },
  );
}

/** Sessions: live now (read from the stores), created, ended by reason, affinity assigned and broken. */
function sessionMetrics(registry: Registry, stores: ReadonlySet<SessionStore>): void {
  new Gauge({
    name: 'snakepit_sessions',
    help: 'Live sessions.',
    registers: [registry],
    collect() {
      let live = 0;
      for (const store of stores) live += store.size;
      this.set(live);
    },
  });
  const created = new Counter({ name: 'snakepit_sessions_created_total', help: 'Sessions created.', registers: [registry] });
  const ended = new Counter({ name: 'snakepit_sessions_ended_total', help: 'Sessions ended, by reason (expired, deleted).', labelNames: ['reason'], registers: [registry] });
  const affinity = new Counter({
    name: 'snakepit_session_affinity_total',
    help: "Session calls placed on a new worker (assigned) and sessions whose worker died (broken), by pool.",
    labelNames: ['pool', 'event'],
    registers: [registry],
  });
  attach(
    'snakepit-metrics-sessions',
    ['snakepit.session.created', 'snakepit.session.ended', 'snakepit.session.affinity.assigned', 'snakepit.session.affinity.broken'],
    (event, _m, metadata) => {
      if (event === 'snakepit.session.created') created.inc();
      else if (event === 'snakepit.session.ended') ended.inc({ reason: label((metadata as { reason?: string }).reason) });
      else affinity.inc({ pool: label((metadata as { pool?: string }).pool), event: event === 'snakepit.session.affinity.assigned' ? 'assigned' : 'broken' });
    },
  );
}

/** Recycling: workers recycled by reason, and their memory when the recycle began. */
function recycleMetrics(registry: Registry): void {
  const recycled = new Counter({ name: 'snakepit_worker_recycles_total', help: 'Workers recycled, by reason (ttl, max_requests, memory, manual).', labelNames: ['pool', 'reason'], registers: [registry] });
  const memory = summary(registry, 'snakepit_worker_recycle_memory_bytes', 'Resident memory of workers when their recycle began.', ['pool']);
  attach('snakepit-metrics-recycling', ['snakepit.pool.worker.recycled'], (_event, { memoryMb }, { pool, reason }) => {
    recycled.inc({ pool, reason });
    if (memoryMb !== undefined) memory.observe({ pool }, memoryMb * MIB);
  });
}

/** Registers the resource families in `registry` and attaches their handlers. */
export function registerResourceMetrics(registry: Registry, stores: ReadonlySet<SessionStore>): void {
  hardwareMetrics(registry);
  gpuMetrics(registry);
  sessionMetrics(registry, stores);
  recycleMetrics(registry);
}
