/** Security of a pool's connections to attached workers: TLS material, the token, and the plaintext rule. */
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { ConfigError, ValidationError } from '../../errors.js';
import { describeValue } from '../../config/format-issues.js';
import { channelOptions } from './proto.js';

/** TLS material, read and ready for `grpc.credentials.createSsl` and the TLS probe. */
export interface TlsMaterial {
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  /** The name the worker's certificate must carry, when not the address's host. */
  serverName?: string | undefined;
}

/** How one pool reaches its attached workers. */
export interface ChannelSecurity {
  /** Unset: plaintext. */
  tls?: TlsMaterial | undefined;
  /** Plaintext to non-loopback addresses allowed (`insecure: true`). */
  insecure: boolean;
}

/** The pool config fields this module reads (`tls`, `token`, `insecure` of a pool). */
export interface PoolSecurityConfig {
  readonly name: string;
  readonly tls?: { readonly ca?: string | undefined; readonly cert?: string | undefined; readonly key?: string | undefined; readonly serverName?: string | undefined } | undefined;
  readonly token?: { readonly file: string } | { readonly env: string } | { readonly value: string } | undefined;
  readonly insecure: boolean;
}

const PEM_PREFIX = '-----BEGIN';

function configProblem(pool: string, field: string, expected: string, value: unknown, cause: string, error?: unknown): ConfigError {
  const path = `pools[${JSON.stringify(pool)}].${field}`;
  const received = describeValue(value);
  return new ConfigError([{ path, expected, received, message: `Expected \`${path}\` to be ${expected}, got ${received}; ${cause}` }], undefined, error);
}

/** PEM text as given, or the contents of the file it names. */
function pem(pool: string, field: string, value: string | undefined): Buffer | undefined {
  if (value === undefined) return undefined;
  if (value.trimStart().startsWith(PEM_PREFIX)) return Buffer.from(value);
  let data: Buffer;
  try {
    data = readFileSync(value);
  } catch (error) {
    throw configProblem(pool, field, 'PEM text or the path of a readable PEM file', value, `cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`, error);
  }
  if (!data.includes(PEM_PREFIX)) throw configProblem(pool, field, 'PEM text or the path of a readable PEM file', value, 'the file holds no PEM block');
  return data;
}

/** The pool's token: from the file (trimmed), the environment variable, or as given. */
export function resolveToken(pool: PoolSecurityConfig): string | undefined {
  const token = pool.token;
  if (token === undefined) return undefined;
  if ('value' in token) return token.value;
  if ('env' in token) {
    const value = process.env[token.env];
    if (!value) throw configProblem(pool.name, 'token.env', 'the name of a set, non-empty environment variable', token.env, 'it is unset or empty');
    return value;
  }
  let text: string;
  try {
    text = readFileSync(token.file, 'utf8').trim();
  } catch (error) {
    throw configProblem(pool.name, 'token.file', 'the path of a readable token file', token.file, `cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`, error);
  }
  if (!text) throw configProblem(pool.name, 'token.file', 'the path of a readable token file', token.file, 'the file is empty');
  return text;
}

/** Reads the pool's TLS files (once, at pool start). */
export function resolveSecurity(pool: PoolSecurityConfig): ChannelSecurity {
  const tls = pool.tls;
  if (tls === undefined) return { insecure: pool.insecure };
  return {
    insecure: pool.insecure,
    tls: { ca: pem(pool.name, 'tls.ca', tls.ca), cert: pem(pool.name, 'tls.cert', tls.cert), key: pem(pool.name, 'tls.key', tls.key), serverName: tls.serverName },
  };
}

/** The host part of a gRPC target (`host:port`, `[v6]:port`, `dns:///host:port`); undefined for Unix sockets. */
export function targetHost(address: string): string | undefined {
  if (/^unix(-abstract)?:/.test(address)) return undefined;
  const target = address.replace(/^(dns|ipv4|ipv6):(\/\/[^/]*\/)?/, '');
  const v6 = /^\[([^\]]+)\]/.exec(target);
  if (v6) return v6[1]!;
  const colon = target.lastIndexOf(':');
  return colon < 0 ? target : target.slice(0, colon);
}

/** Unix sockets, `localhost`, 127.0.0.0/8 and ::1 never leave the machine. */
export function isLoopbackTarget(address: string): boolean {
  const host = targetHost(address);
  if (host === undefined) return true;
  const name = host.toLowerCase();
  return name === 'localhost' || name === '::1' || (isIPv4(name) && name.startsWith('127.'));
}

/**
 * Refuses plaintext to an address off this machine unless the pool says `insecure: true`.
 * @throws {ValidationError} code `insecure_transport`, naming the address and the pool.
 */
export function checkTarget(address: string, security: ChannelSecurity, pool: string): void {
  if (security.tls || security.insecure || isLoopbackTarget(address)) return;
  throw new ValidationError(
    `Pool ${pool}: refusing plaintext gRPC to ${address}, which is not a loopback address; set \`tls\` (or \`insecure: true\` where the network is protected otherwise)`,
    'insecure_transport',
    { pool, address, field: 'tls' },
  );
}

/** Channel credentials and the options that go with them (the server name override). */
export function channelCredentials(security: ChannelSecurity | undefined): { credentials: grpc.ChannelCredentials; options: grpc.ChannelOptions } {
  const tls = security?.tls;
  if (!tls) return { credentials: grpc.credentials.createInsecure(), options: {} };
  const credentials = grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
  const options: grpc.ChannelOptions = tls.serverName ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName } : {};
  return { credentials, options };
}

/** HTTP/2 keepalive of a connection to a remote worker (from the pool's heartbeat settings). */
export interface Keepalive {
  /** Time between pings, in ms. */
  timeMs: number;
  /** A ping unanswered this long fails the connection, in ms. */
  timeoutMs: number;
}

/** The longest timer Node keeps (a larger one fires at once). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * grpc-js options for `keepalive`: pings also while no call runs (an idle partition is found too),
 * and no idle mode: a connection the channel dropped on its own would look like a lost worker.
 */
function keepaliveOptions(keepalive: Keepalive | undefined): grpc.ChannelOptions {
  if (!keepalive) return {};
  return {
    'grpc.keepalive_time_ms': keepalive.timeMs,
    'grpc.keepalive_timeout_ms': keepalive.timeoutMs,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.client_idle_timeout_ms': MAX_TIMER_MS,
  };
}

/**
 * Credentials and options of a client of one worker. Clients made with the same ones share one
 * connection (grpc-js's subchannel pool): the health watch rides on the calls' connection.
 */
export function clientSettings(security: ChannelSecurity | undefined, keepalive: Keepalive | undefined): { credentials: grpc.ChannelCredentials; options: grpc.ChannelOptions } {
  const { credentials, options } = channelCredentials(security);
  return { credentials, options: { ...channelOptions(), ...options, ...keepaliveOptions(keepalive) } };
}
