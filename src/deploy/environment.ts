import { checkBoolean, checkInteger, checkKnownKeys, describe, fail, isObject } from './checks.js'

/** The extension layer's own settings, set as environment variables of the function. */
export interface ExtensionSettings {
  /** `SECRETS_MANAGER_TTL`, seconds (0 to 300; 0 turns that cache off). Default: from `cacheExpiry`, else the layer's 300. */
  secretsManagerTtl?: number
  /** `SSM_PARAMETER_STORE_TTL`, seconds (0 to 300). Default: from `cacheExpiry`, else the layer's 300. */
  parameterStoreTtl?: number
  /** `PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED` (the layer's default: true). */
  cacheEnabled?: boolean
  /** `PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE`, entries (0 to 1000; the layer's default: 1000). */
  cacheSize?: number
  /** `PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS`: the layer's outbound connections per AWS client (default 3). */
  maxConnections?: number
  /** `PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL` (the layer's default: info). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'none'
  /** `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` (default 2773). The middleware reads the same variable. */
  httpPort?: number
  /** `SECRETS_MANAGER_TIMEOUT_MILLIS`: the layer's timeout for calls to AWS (0, the default, is none). */
  secretsManagerTimeoutMillis?: number
  /** `SSM_PARAMETER_STORE_TIMEOUT_MILLIS` (0, the default, is none). */
  parameterStoreTimeoutMillis?: number
}

const maxTtl = 300
// A function runs for at most 15 minutes: a longer upstream timeout means none.
const maxTimeoutMillis = 900_000
const logLevels = ['debug', 'info', 'warn', 'error', 'none']

type Setting = [variable: string, check: (value: unknown, path: string) => string]
const integer = (min: number, max: number) => (value: unknown, path: string) =>
  String(checkInteger(value, path, min, max))

const settings: Readonly<Record<keyof ExtensionSettings, Setting>> = {
  secretsManagerTtl: ['SECRETS_MANAGER_TTL', integer(0, maxTtl)],
  parameterStoreTtl: ['SSM_PARAMETER_STORE_TTL', integer(0, maxTtl)],
  cacheEnabled: [
    'PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED',
    (value, path) => String(checkBoolean(value, path)).toUpperCase(),
  ],
  cacheSize: ['PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE', integer(0, 1000)],
  maxConnections: ['PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS', integer(1, Number.MAX_SAFE_INTEGER)],
  logLevel: [
    'PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL',
    (value, path) => {
      // Lower case, as AWS CDK writes it; the layer reads either case.
      if (!logLevels.includes(value as string))
        fail(
          path,
          `must be one of ${logLevels.map((level) => `'${level}'`).join(', ')}, got ${describe(value)}`,
        )
      return value as string
    },
  ],
  httpPort: ['PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', integer(1, 65_535)],
  secretsManagerTimeoutMillis: ['SECRETS_MANAGER_TIMEOUT_MILLIS', integer(0, maxTimeoutMillis)],
  parameterStoreTimeoutMillis: ['SSM_PARAMETER_STORE_TIMEOUT_MILLIS', integer(0, maxTimeoutMillis)],
}

export const checkCacheExpiry = (value: unknown, path: string): number | undefined => {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !(value === -1 || (Number.isFinite(value) && value >= 0)))
    fail(
      path,
      `must be -1 or a finite number of milliseconds ≥ 0, as the middleware takes it, got ${describe(value)}`,
    )
  return value as number
}

/**
 * The TTL that keeps the layer's cache in step with the middleware's: with `cacheExpiry` n ms > 0, the
 * layer keeps a value as long as the middleware does (n rounded up to seconds, at most 300), so both
 * expire together and a rotation is seen after about n ms instead of n ms + 300 s. With 0 (the
 * middleware does not cache) or -1 (it keeps values for the life of the environment) the layer's own
 * default stands.
 */
export const ttlFor = (cacheExpiry: number | undefined): number | undefined =>
  cacheExpiry === undefined || cacheExpiry <= 0 ? undefined : Math.min(maxTtl, Math.ceil(cacheExpiry / 1000))

/**
 * The environment variables that configure the extension layer: each given setting, and the TTLs in
 * step with the middleware's `cacheExpiry` (see `ttlFor`) unless set explicitly. Keys are sorted.
 *
 * @throws TypeError naming the setting, such as `settings.secretsManagerTtl`
 */
export function extensionEnvironment(
  extensionSettings: ExtensionSettings = {},
  cacheExpiry?: number,
): Record<string, string> {
  if (!isObject(extensionSettings)) fail('settings', `must be an object, got ${describe(extensionSettings)}`)
  checkKnownKeys(extensionSettings, Object.keys(settings), 'settings')
  const ttl = ttlFor(checkCacheExpiry(cacheExpiry, 'cacheExpiry'))
  const given: Record<string, unknown> = { ...extensionSettings }
  if (ttl !== undefined) {
    given.secretsManagerTtl ??= ttl
    given.parameterStoreTtl ??= ttl
  }
  const environment: Record<string, string> = {}
  for (const [name, [variable, check]] of Object.entries(settings)) {
    if (given[name] !== undefined) environment[variable] = check(given[name], `settings.${name}`)
  }
  return Object.fromEntries(Object.entries(environment).sort(([a], [b]) => (a < b ? -1 : 1)))
}
