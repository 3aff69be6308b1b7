/** Public entry point of the `snakepit` package. */
export { Snakepit, getDefaultInstance, setDefaultInstance, DEFAULT_CANCEL_GRACE_MS } from './snakepit.js';
export type { ExecuteOptions, ChunkInfo, StartOptions, RunAsScriptOptions } from './snakepit.js';
export type { MapOptions, MapCallOptions, SettleMapOptions, MapProgress, MapMode } from './pool/map-options.js';
export type { CleanupResult, ScriptModeOptions } from './script-mode.js';
export type { ReapReport } from './process/reaper.js';
export { execute, stream, executeStream, map, mapIterable, session, registerTool, stats, listWorkers } from './module-calls.js';
export { Session, SessionState, type SessionCallOptions, type SessionOptions } from './session/session.js';
export type { SessionStore, SessionRecord, SessionStats } from './session/session-store.js';
export type { HostToolFn, HostToolContext, HostToolParameter, HostToolSpec, RegisterToolOptions } from './host-tools/host-tool.js';
export { defineConfig, resolveConfig, loadConfig } from './config/index.js';
export type { SnakepitConfigInput, ResolvedConfig, ResolvedPoolConfig } from './config/index.js';
// Option and result types of the public functions above and below (so the API reference can show them).
export { CONFIG_FILE_NAMES } from './config/load.js';
export type { LoadedConfig, LoadConfigOptions } from './config/load.js';
export type { SessionStoreStats, SessionInfo, CreateSessionOptions } from './session/session-store.js';
export type { ReapOptions } from './process/reaper.js';
export type { ControlEndpointInfo } from './control/server.js';
export type { SnakepitMetrics, TelemetryControl, ControlTarget, TelemetryStreamInfo, PatternSampling, GpuProfilerOptions, GpuProfilerStats, GpuSample } from './telemetry/index.js';
export type { HostEventMap, Measurements } from './telemetry/catalog.js';
export type { CreateVenvOptions, ResolveInterpreterOptions, InterpreterSource } from './python/venv.js';
export type { FindUvOptions } from './python/packages.js';
export type { ProbeOptions, PythonVersionTuple } from './python/version.js';
export type { DoctorOptions } from './python/doctor.js';
export * from './errors.js';
export { Tensor, type TensorDType, type TensorData, type TensorOrder } from './tensor.js';
export { ZeroCopyRef } from './transport/codec.js';
export { ArrowIPC } from './transport/arrow.js';
export { ProcessRegistry, ProcessKiller, type RegistrySnapshot, type RegisteredRun, type RegisteredWorker, type RegistryOptions } from './process/process-registry.js';
export { Logger, withLevel, setProcessLevel, getProcessLevel, clearProcessLevel, pinoSink, redact, type LogCategoriesInput, type LogLevel, type LogLevelInput, type LogCategory, type LogRecord, type LogSink, type PinoLike } from './logger.js';
export { telemetry, PYTHON_EVENTS, EVENT_NAMES, PYTHON_MEASUREMENT_KEYS } from './telemetry/index.js';
export type { TelemetryHandler, TelemetryMessage, TelemetryEventMap, TelemetryEventName, PythonEventName, AppEventName, SpanRef } from './telemetry/index.js';
export type { DrainReason, PoolStats, RemoteDrainReason, WorkerInfo } from './pool/pool.js';
export type { PoolHealth, InstanceHealth, HealthStatus, HealthError } from './pool/health.js';
export type { CrashClassification, CrashInfo, CrashReason } from './pool/crash-barrier.js';
export type { RecycleReason, RecycleCounts, RecycleOutcome } from './pool/lifecycle.js';
export type { ResizeOutcome } from './pool/resizer.js';
export type { CallOptions } from './pool/task.js';
export type { ToolSpec, PythonRuntimeWire } from './transport/types.js';
export type {
  SnakepitToolRegistry, ToolEntry, UntypedToolEntry, PyInt, UnserializableValue, HasToolTypes, PoolName, DefaultPool, ToolName, ToolArgs, ToolResult, ToolChunk,
  ResultTypeArgument, ResultFromGeneratedTypes, CallResult, CallChunk, CallRest, PoolOptions,
} from './typed/registry.js';
export { PythonWatcher, DEFAULT_WATCH_DEBOUNCE_MS, type WatchOptions, type WatchEvents } from './watch/python-watcher.js';
export type { AdapterTypeSpec, ToolTypeSpec, TypeNode, ParamSpec, FieldSpec, ObjectNode, EnumNode, LiteralValue, ScalarKind, Definitions } from './typed/type-spec.js';
export { adviseProfile, libraryThreadSafety, runtimeInfoFromWire, LIBRARY_THREAD_SAFETY } from './python/profile-advice.js';
export type { ProfileAdvice, ProfileAdviceOptions, ProfilePoolSettings, PythonRuntimeInfo, ThreadSafety, Workload } from './python/profile-advice.js';
export type { AffinityMode } from './pool/scheduler.js';
export * from './python-errors/index.js';
export * from './resilience/index.js';
export * from './hardware/index.js';
export {
  PythonPackages,
  findUv,
  type Installer,
  type RequirementsSpec,
  type CheckResult,
  type UnmetRequirement,
  type EnsureResult,
  type LockMetadata,
  type PythonPackagesOptions,
  type InstallOptions,
} from './python/packages.js';
export { probePython, supportsFreeThreading, recommendProfileForVersion, MIN_PYTHON_VERSION, type PythonInfo } from './python/version.js';
export { createVenv, resolveInterpreter, venvPython, isVenv, type PythonStrategy } from './python/venv.js';
export { runDoctor, type DoctorReport, type DoctorCheck, type CheckStatus } from './python/doctor.js';
