import { isIPv4 } from 'node:net'
import { fail, isRecord, rejectUnknownKeys } from './check.js'
import { type FaultRule, validateFaults } from './faults.js'
import { compileValues, type EmulatorValues, type ValueStore } from './values.js'

export interface EmulatorOptions {
  /** What the emulator serves. Default `{}`. */
  values?: EmulatorValues
  /** The token requests must carry. Default: any non-empty token is accepted. */
  token?: string
  /** Default 0: an ephemeral port. */
  port?: number
  /** A loopback address: `127.x.x.x`, `::1` or `localhost`. Default `127.0.0.1`. */
  host?: string
  /** Default none. */
  faults?: FaultRule[]
  /** How long the layer's cache keeps an answer. Default 300 000 ms, like the layer; 0 disables it. */
  cacheTtlMs?: number
  /** Used in ARNs. Default `us-east-1`. */
  region?: string
  /** Used in ARNs. Default `123456789012`. */
  accountId?: string
}

export interface ResolvedOptions {
  values: ValueStore
  token: string | undefined
  port: number
  host: string
  faults: FaultRule[]
  cacheTtlMs: number
  region: string
  accountId: string
}

const defaults = {
  port: 0,
  host: '127.0.0.1',
  cacheTtlMs: 300_000,
  region: 'us-east-1',
  accountId: '123456789012',
}

const knownKeys = ['values', 'token', 'port', 'host', 'faults', 'cacheTtlMs', 'region', 'accountId']

/** @throws TypeError naming the option, e.g. `port: expected an integer from 0 to 65535` */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === undefined) options = {}
  if (!isRecord(options)) fail('options', 'expected an object')
  rejectUnknownKeys(options, knownKeys, '')
  const { values = {}, token, port = defaults.port, host = defaults.host, faults = [] } = options
  const {
    cacheTtlMs = defaults.cacheTtlMs,
    region = defaults.region,
    accountId = defaults.accountId,
  } = options
  if (token !== undefined && (typeof token !== 'string' || token === ''))
    fail('token', 'expected a non-empty string')
  if (!(Number.isInteger(port) && (port as number) >= 0 && (port as number) <= 65_535)) {
    fail('port', 'expected an integer from 0 to 65535')
  }
  if (typeof host !== 'string' || !isLoopback(host)) {
    fail(
      'host',
      'expected a loopback address (127.x.x.x, ::1 or localhost): the token must never leave the machine',
    )
  }
  if (typeof cacheTtlMs !== 'number' || !(cacheTtlMs >= 0) || !Number.isFinite(cacheTtlMs)) {
    fail('cacheTtlMs', 'expected a non-negative number of milliseconds')
  }
  if (typeof region !== 'string' || region === '') fail('region', 'expected a non-empty string')
  if (typeof accountId !== 'string' || accountId === '') fail('accountId', 'expected a non-empty string')
  return {
    values: compileValues(values, 'values'),
    token,
    port: port as number,
    host,
    faults: validateFaults(faults),
    cacheTtlMs,
    region,
    accountId,
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'))
}
