import { parseArgs } from 'node:util'
import type { ExtensionSettings, Flavour } from '../emulator/settings.js'
import { level, readEnvironment, variables } from './environment.js'
import { UsageError } from './usage-error.js'

export { UsageError }

/** What the command line and the layer's environment variables ask for, checked. */
export interface CommandOptions {
  valuesPath: string
  port: number
  host: string
  token: string | undefined
  flavour: Flavour
  notReadyMs: number
  refuseMs: number
  /** The layer's settings, from its environment variables and --log-level. */
  settings: ExtensionSettings
  /** How many requests the command keeps in memory; counts cover all. */
  recordLimit: number
  /** Requests per second of the emulated account; undefined leaves that service unthrottled. */
  throughput: { getParameter: number | undefined; getSecretValue: number | undefined }
  latencyMs: { parameter: number; secret: number }
  /** The agent's max_conn. */
  maxConn: number | undefined
}

export type Command = { kind: 'help' } | { kind: 'run'; options: CommandOptions }

export const commandName = 'extension-secrets-emulator'

export const usage = `Usage: ${commandName} --values FILE [options]

Serves the values in FILE (the emulator's values format, see docs/emulator.md) on loopback, as the AWS
Parameters and Secrets Lambda Extension (or the AWS Secrets Manager Agent) would, logs one line per
request, and reloads FILE whenever it changes.

Options:
  --values FILE                      JSON values file (required)
  --flavour layer|agent              the binary to answer as (default layer)
  --port N                           port to listen on (default $PARAMETERS_SECRETS_EXTENSION_HTTP_PORT,
                                     else 2773, the extension's; 0 picks a free one)
  --host ADDRESS                     loopback IP to listen on: 127.x.x.x or ::1 (default 127.0.0.1)
  --token TOKEN                      require this token (default: any non-empty token)
  --refuse-ms N                      refuse connections for the first N ms, as before the extension starts
  --not-ready-ms N                   then answer "not ready to serve traffic" for N ms, as on a cold start
  --log-level LEVEL                  debug, info, warn, error or none (default
                                     $PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL, else info)
  --record N                         requests kept in memory, the latest ones (default 1000)
  --get-parameter-per-second N       throttle GetParameter misses, as the account's quota (40 standard)
  --get-secret-value-per-second N    throttle GetSecretValue misses (the quota is 10000)
  --parameter-latency-ms N           time of one GetParameter call on a cache miss (default 0)
  --secret-latency-ms N              time of one GetSecretValue call on a cache miss (default 0)
  --max-conn N                       agent only: open connections above N get 429 (default 800)
  -h, --help                         show this help

The layer's own variables configure it as they configure the layer: ${Object.values(variables).join(', ')}.
SIGHUP rehearses a cold start again: the cache is emptied and --refuse-ms / --not-ready-ms start over.
The token and the values are never printed or logged.`

const flags = {
  values: { type: 'string' },
  flavour: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  token: { type: 'string' },
  'refuse-ms': { type: 'string' },
  'not-ready-ms': { type: 'string' },
  'log-level': { type: 'string' },
  record: { type: 'string' },
  'get-parameter-per-second': { type: 'string' },
  'get-secret-value-per-second': { type: 'string' },
  'parameter-latency-ms': { type: 'string' },
  'secret-latency-ms': { type: 'string' },
  'max-conn': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

// Flags that are gone, with where their job went.
const replaced: Record<string, string> = {
  'cache-ttl-ms':
    "--cache-ttl-ms is gone: set the layer's own SECRETS_MANAGER_TTL and SSM_PARAMETER_STORE_TTL (seconds) instead",
}

/**
 * @param env the process's environment, for the layer's variables
 * @throws UsageError for an unknown flag, a missing or malformed value, a stray argument, or a malformed variable
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
): Command {
  // Non-strict parsing with tokens, so that every message is ours: Node's own messages quote the
  // arguments, and an argument may be a token.
  const { values, tokens } = parseArgs({ args: [...argv], options: flags, strict: false, tokens: true })
  const seen = new Set<string>()
  for (const token of tokens) {
    if (token.kind === 'positional') {
      throw new UsageError('unexpected argument: every value follows its flag, as in --values values.json')
    }
    if (token.kind !== 'option') continue
    const flag = token.rawName.split('=')[0]!
    if (replaced[token.name] !== undefined) throw new UsageError(replaced[token.name]!)
    if (!Object.hasOwn(flags, token.name)) throw new UsageError(`unknown option ${flag}`)
    if (seen.has(token.name)) throw new UsageError(`${flag} given twice`)
    seen.add(token.name)
    const type = flags[token.name as keyof typeof flags].type
    if (type === 'boolean' && token.inlineValue) throw new UsageError(`${flag} takes no value`)
    if (type === 'string') {
      if (token.value === undefined || token.value === '')
        throw new UsageError(`--${token.name}: missing value`)
      // parseArgs takes the next argument whatever it is; a flag there means the value was forgotten.
      if (!token.inlineValue && token.value.startsWith('-')) {
        throw new UsageError(
          `--${token.name}: missing value (to pass a value starting with "-", write --${token.name}=VALUE)`,
        )
      }
    }
  }
  if (values.help) return { kind: 'help' }
  const environment = readEnvironment(env)
  const port = integer(values.port, 'port', environment.port ?? 2773, 65_535)
  const refuseMs = integer(values['refuse-ms'], 'refuse-ms', 0)
  const notReadyMs = integer(values['not-ready-ms'], 'not-ready-ms', 0)
  const recordLimit = integer(
    values.record,
    'record',
    1000,
    Number.MAX_SAFE_INTEGER,
    'a whole number of requests',
  )
  const perSecond = (flag: string) => {
    const text = values[flag as keyof typeof values]
    if (text === undefined) return undefined
    const value = integer(
      text,
      flag,
      0,
      Number.MAX_SAFE_INTEGER,
      'a positive whole number of requests per second',
    )
    if (value === 0)
      throw new UsageError(`--${flag}: expected a positive whole number of requests per second, got "0"`)
    return value
  }
  const flavour = values.flavour ?? 'layer'
  if (flavour !== 'layer' && flavour !== 'agent') {
    throw new UsageError(`--flavour: expected layer or agent, got ${JSON.stringify(flavour)}`)
  }
  const maxConn =
    values['max-conn'] === undefined
      ? undefined
      : integer(values['max-conn'], 'max-conn', 800, 1000, 'an integer from 1 to 1000')
  if (maxConn === 0) throw new UsageError('--max-conn: expected an integer from 1 to 1000, got "0"')
  if (maxConn !== undefined && flavour !== 'agent')
    throw new UsageError('--max-conn: only with --flavour agent')
  const settings = { ...environment.settings }
  if (typeof values['log-level'] === 'string') settings.logLevel = level(values['log-level'], '--log-level')
  const valuesPath = values.values
  if (typeof valuesPath !== 'string') throw new UsageError('--values FILE is required')
  const host = typeof values.host === 'string' ? values.host : '127.0.0.1'
  const token = typeof values.token === 'string' ? values.token : undefined
  return {
    kind: 'run',
    options: {
      valuesPath,
      port,
      host,
      token,
      flavour,
      refuseMs,
      notReadyMs,
      settings,
      recordLimit,
      throughput: {
        getParameter: perSecond('get-parameter-per-second'),
        getSecretValue: perSecond('get-secret-value-per-second'),
      },
      latencyMs: {
        parameter: integer(values['parameter-latency-ms'], 'parameter-latency-ms', 0),
        secret: integer(values['secret-latency-ms'], 'secret-latency-ms', 0),
      },
      maxConn,
    },
  }
}

function integer(
  text: string | boolean | undefined,
  flag: string,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
  expected = max === 65_535 ? 'an integer from 0 to 65535' : 'a whole number of milliseconds',
): number {
  if (text === undefined) return fallback
  const value = typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!(value <= max)) throw new UsageError(`--${flag}: expected ${expected}, got ${JSON.stringify(text)}`)
  return value
}
