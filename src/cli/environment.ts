import type { ExtensionSettings, LogLevel } from '../emulator/settings.js'
import { logLevels } from '../emulator/settings.js'
import { UsageError } from './usage-error.js'

/**
 * The layer's own environment variables, read as the layer reads them, so that the configuration of a
 * deployed function also drives the emulator. Limits and clamping are the emulator's options' (a TTL above
 * 300 is clamped with a WARN line); here a value that is not a number is refused, naming the variable.
 */
export interface EnvironmentSettings {
  settings: ExtensionSettings
  /** `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`, when set. */
  port: number | undefined
}

export const variables = {
  secretsManagerTtl: 'SECRETS_MANAGER_TTL',
  ssmParameterStoreTtl: 'SSM_PARAMETER_STORE_TTL',
  cacheEnabled: 'PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED',
  cacheSize: 'PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE',
  maxConnections: 'PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS',
  secretsManagerTimeoutMillis: 'SECRETS_MANAGER_TIMEOUT_MILLIS',
  ssmParameterStoreTimeoutMillis: 'SSM_PARAMETER_STORE_TIMEOUT_MILLIS',
  logLevel: 'PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL',
} as const satisfies Record<keyof ExtensionSettings, string>

export const portVariable = 'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT'

/** @throws UsageError naming the variable, e.g. `SECRETS_MANAGER_TTL: expected a whole number of seconds, got "5m"` */
export function readEnvironment(env: Record<string, string | undefined>): EnvironmentSettings {
  const settings: ExtensionSettings = {}
  const set = (key: keyof ExtensionSettings, value: unknown) => {
    ;(settings as Record<string, unknown>)[key] = value
  }
  for (const key of Object.keys(variables) as (keyof ExtensionSettings)[]) {
    const name = variables[key]
    const text = env[name]
    if (text === undefined || text === '') continue
    if (key === 'cacheEnabled') set(key, boolean(text, name))
    else if (key === 'logLevel') set(key, level(text, name))
    else
      set(
        key,
        whole(text, name, key.endsWith('Ttl') ? 'seconds' : key.endsWith('Millis') ? 'milliseconds' : ''),
      )
  }
  const portText = env[portVariable]
  let port: number | undefined
  if (portText !== undefined && portText !== '') {
    port = whole(portText, portVariable, '')
    if (port < 1 || port > 65_535)
      throw new UsageError(`${portVariable}: expected a port from 1 to 65535, got "${portText}"`)
  }
  return { settings, port }
}

function whole(text: string, name: string, unit: string): number {
  if (!/^\d+$/.test(text)) {
    throw new UsageError(
      `${name}: expected a whole number${unit ? ` of ${unit}` : ''}, got ${JSON.stringify(text)}`,
    )
  }
  return Number(text)
}

// Go's strconv.ParseBool, which a Go binary would use for a boolean variable.
const truthy = ['1', 't', 'T', 'TRUE', 'true', 'True']
const falsy = ['0', 'f', 'F', 'FALSE', 'false', 'False']

function boolean(text: string, name: string): boolean {
  if (truthy.includes(text)) return true
  if (falsy.includes(text)) return false
  throw new UsageError(`${name}: expected TRUE or FALSE, got ${JSON.stringify(text)}`)
}

export function level(text: string, name: string): LogLevel {
  const lower = text.toLowerCase() as LogLevel
  if (logLevels.includes(lower)) return lower
  throw new UsageError(`${name}: expected DEBUG, INFO, WARN, ERROR or NONE, got ${JSON.stringify(text)}`)
}
