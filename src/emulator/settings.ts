import { fail } from './check.js'

/**
 * The extension's own settings, one option per environment variable of the layer, so that one
 * configuration drives `sam local`, tests and the deployed function. Names, defaults and limits are the
 * layer's (AWS documentation); the agent's own limits are in its config.rs.
 */
export interface ExtensionSettings {
  /** `SECRETS_MANAGER_TTL`, seconds. Default 300. Layer: 0–300, a higher value clamped to 300 with a WARN line; agent: 0–3600. 0 caches nothing. */
  secretsManagerTtl?: number
  /** `SSM_PARAMETER_STORE_TTL`, seconds. Default 300; 0–300, clamped like `secretsManagerTtl`. Layer only. */
  ssmParameterStoreTtl?: number
  /** `PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED`. Default true. */
  cacheEnabled?: boolean
  /** `PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE`: entries, secrets and parameters together. Default 1000; 0–1000 (agent: 1–1000). 0 caches nothing. */
  cacheSize?: number
  /** `PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS`: outbound connections per AWS service; more upstream calls wait. Default 3. */
  maxConnections?: number
  /** `SECRETS_MANAGER_TIMEOUT_MILLIS`: bound of one upstream call, retries included. Default 0, none. */
  secretsManagerTimeoutMillis?: number
  /** `SSM_PARAMETER_STORE_TIMEOUT_MILLIS`, as `secretsManagerTimeoutMillis`. Layer only. */
  ssmParameterStoreTimeoutMillis?: number
  /** `PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL`. Default `info`. */
  logLevel?: LogLevel
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'none'
export const logLevels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'none']

export type Flavour = 'layer' | 'agent'

export interface ResolvedSettings {
  /** Milliseconds; 0 caches nothing. */
  ttlMs: { secret: number; parameter: number }
  cacheEnabled: boolean
  cacheSize: number
  maxConnections: number
  /** Milliseconds; 0 is no timeout. */
  timeoutMs: { secret: number; parameter: number }
  logLevel: LogLevel
}

export const settingKeys = [
  'secretsManagerTtl',
  'ssmParameterStoreTtl',
  'cacheEnabled',
  'cacheSize',
  'maxConnections',
  'secretsManagerTimeoutMillis',
  'ssmParameterStoreTimeoutMillis',
  'logLevel',
] as const

/** The layer's ceiling for both TTLs; it clamps a higher value (with a WARN line) rather than refusing it. */
export const layerMaxTtl = 300
/** The agent refuses to start with a TTL above this (config.rs: 0..3601). */
export const agentMaxTtl = 3600
const maxCacheSize = 1000

/**
 * Checks the settings; `warn` receives the layer's warning for each clamped TTL. Fractions of a second
 * are accepted for the TTLs, so that tests need not wait whole seconds.
 * @throws TypeError naming the option
 */
export function resolveSettings(
  input: Record<string, unknown>,
  flavour: Flavour,
  warn: (message: string) => void,
): ResolvedSettings {
  if (flavour === 'agent') {
    for (const key of ['ssmParameterStoreTtl', 'ssmParameterStoreTimeoutMillis']) {
      if (input[key] !== undefined) fail(key, "the agent serves no parameters: only for flavour 'layer'")
    }
  }
  const ttl = (key: 'secretsManagerTtl' | 'ssmParameterStoreTtl', variable: string): number => {
    const value = input[key] ?? layerMaxTtl
    if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
      fail(key, 'expected a non-negative number of seconds')
    }
    if (flavour === 'agent') {
      if (value > agentMaxTtl) fail(key, `expected at most ${agentMaxTtl} seconds (the agent's limit)`)
      return value * 1000
    }
    if (value <= layerMaxTtl) return value * 1000
    warn(`${variable} is ${value}, above the maximum of ${layerMaxTtl} seconds: using ${layerMaxTtl}`)
    return layerMaxTtl * 1000
  }
  const { cacheEnabled = true, cacheSize = maxCacheSize, maxConnections = 3, logLevel = 'info' } = input
  if (typeof cacheEnabled !== 'boolean') fail('cacheEnabled', 'expected a boolean')
  const minCacheSize = flavour === 'agent' ? 1 : 0
  if (!isInteger(cacheSize) || cacheSize < minCacheSize || cacheSize > maxCacheSize) {
    fail('cacheSize', `expected an integer from ${minCacheSize} to ${maxCacheSize}`)
  }
  if (!isInteger(maxConnections) || maxConnections < 1) fail('maxConnections', 'expected a positive integer')
  if (typeof logLevel !== 'string' || !logLevels.includes(logLevel as LogLevel)) {
    fail('logLevel', `expected one of ${logLevels.join(', ')}`)
  }
  return {
    ttlMs: {
      secret: ttl('secretsManagerTtl', 'SECRETS_MANAGER_TTL'),
      parameter: flavour === 'agent' ? 0 : ttl('ssmParameterStoreTtl', 'SSM_PARAMETER_STORE_TTL'),
    },
    cacheEnabled,
    cacheSize,
    maxConnections,
    timeoutMs: {
      secret: timeout(input.secretsManagerTimeoutMillis, 'secretsManagerTimeoutMillis'),
      parameter: timeout(input.ssmParameterStoreTimeoutMillis, 'ssmParameterStoreTimeoutMillis'),
    },
    logLevel: logLevel as LogLevel,
  }
}

function timeout(value: unknown, key: string): number {
  if (value === undefined) return 0
  if (!isInteger(value) || value < 0) fail(key, 'expected a non-negative integer of milliseconds (0: none)')
  return value
}

const isInteger = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value)
