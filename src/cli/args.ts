import { parseArgs } from 'node:util'

/** What the command line asks for, checked. */
export interface CommandOptions {
  valuesPath: string
  port: number
  host: string
  token: string | undefined
  notReadyMs: number
  refuseMs: number
  cacheTtlMs: number
}

export type Command = { kind: 'help' } | { kind: 'run'; options: CommandOptions }

/** A mistake on the command line: the message names the flag and never repeats a token. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export const commandName = 'extension-secrets-emulator'

export const usage = `Usage: ${commandName} --values FILE [options]

Serves the values in FILE (the emulator's values format, see docs/emulator.md) on loopback, as the AWS
Parameters and Secrets Lambda Extension would, and reloads FILE whenever it changes.

Options:
  --values FILE          JSON values file (required)
  --port N               port to listen on (default 2773, the extension's; 0 picks a free one)
  --host ADDRESS         loopback address to listen on (default 127.0.0.1)
  --token TOKEN          require this X-Aws-Parameters-Secrets-Token (default: any non-empty token)
  --refuse-ms N          refuse connections for the first N ms, as before the extension starts
  --not-ready-ms N       then answer "not ready to serve traffic" for N ms, as during a cold start
  --cache-ttl-ms N       how long the emulated layer caches an answer (default 300000; 0 turns it off)
  -h, --help             show this help

The token is never printed or logged.`

const flags = {
  values: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  token: { type: 'string' },
  'refuse-ms': { type: 'string' },
  'not-ready-ms': { type: 'string' },
  'cache-ttl-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

/** @throws UsageError for an unknown flag, a missing or malformed value, or a stray argument */
export function parseCommandLine(argv: readonly string[]): Command {
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
  const port = integer(values.port, 'port', 2773, 65_535)
  const refuseMs = integer(values['refuse-ms'], 'refuse-ms', 0)
  const notReadyMs = integer(values['not-ready-ms'], 'not-ready-ms', 0)
  const cacheTtlMs = integer(values['cache-ttl-ms'], 'cache-ttl-ms', 300_000)
  const valuesPath = values.values
  if (typeof valuesPath !== 'string') throw new UsageError('--values FILE is required')
  const host = typeof values.host === 'string' ? values.host : '127.0.0.1'
  const token = typeof values.token === 'string' ? values.token : undefined
  return { kind: 'run', options: { valuesPath, port, host, token, refuseMs, notReadyMs, cacheTtlMs } }
}

function integer(
  text: string | boolean | undefined,
  flag: string,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (text === undefined) return fallback
  const value = typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!(value <= max)) {
    const range = max === 65_535 ? 'an integer from 0 to 65535' : 'a whole number of milliseconds'
    throw new UsageError(`--${flag}: expected ${range}, got ${JSON.stringify(text)}`)
  }
  return value
}
