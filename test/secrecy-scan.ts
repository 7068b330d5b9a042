import { inspect } from 'node:util'
import { expect } from 'vitest'
import { allText } from './helpers.js'

// Everything an invocation leaves where someone could read it, gathered by channel. A new output
// channel (an event hook, a metric) is one more field of `Observed` and one more entry in `channels`;
// every test that scans for secrets then covers it.

export interface Observed {
  /** What the invocation threw, if anything. */
  error?: unknown
  /** The handler's context after the middleware ran. */
  context?: object
  /** `request.internal` is meant to hold values: it is scanned only for what it must not hold (the token). */
  internal?: object
  /** Every line written to the console or to stdout/stderr while the invocation ran. */
  logs: string[]
  /** What the emulator recorded. */
  requests?: unknown
  /** Every `onEvent` event of the invocation. */
  events?: unknown[]
}

/** Each channel renders what it exposes as text; a secret must be absent from all of them. */
const channels: Record<string, (observed: Observed) => Promise<string> | string> = {
  error: async ({ error }) => {
    if (error === undefined) return ''
    const nested = (error as { errors?: unknown[] }).errors ?? []
    const causes = [error, ...nested].map((item) => (item as { cause?: unknown }).cause)
    return (await Promise.all([error, ...nested, ...causes].map((item) => allText(item)))).join('\n')
  },
  'JSON.stringify(context)': ({ context }) => (context === undefined ? '' : JSON.stringify(context)),
  'util.inspect(context)': ({ context }) => (context === undefined ? '' : inspect(context, { depth: 10 })),
  'console.log(context)': ({ context }) => (context === undefined ? '' : `${inspect(context)}`),
  logs: ({ logs }) => logs.join('\n'),
  'emulator requests': async ({ requests }) => (requests === undefined ? '' : allText(requests)),
  'onEvent events': async ({ events }) => (events === undefined ? '' : allText(events)),
}

/** Channels that may carry values by design, scanned only for the token. */
const tokenOnlyChannels: Record<string, (observed: Observed) => Promise<string> | string> = {
  'request.internal': async ({ internal }) => (internal === undefined ? '' : allText(internal)),
}

/** Asserts that no channel contains any of `secrets`, and none, values included, contains `tokens`. */
export const expectNothingLeaked = async (
  observed: Observed,
  secrets: readonly string[],
  tokens: readonly string[],
) => {
  for (const [name, render] of Object.entries(channels)) {
    const text = await render(observed)
    for (const secret of [...secrets, ...tokens]) {
      expect(text.includes(secret), `${name} contains a secret or the token`).toBe(false)
    }
  }
  for (const [name, render] of Object.entries(tokenOnlyChannels)) {
    const text = await render(observed)
    for (const token of tokens) expect(text.includes(token), `${name} contains the token`).toBe(false)
  }
}

/** Runs `run` while recording every console call and every write to stdout and stderr. */
export const capturingLogs = async <T>(run: () => Promise<T>): Promise<{ result: T; logs: string[] }> => {
  const logs: string[] = []
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const
  const savedConsole = methods.map((method) => console[method])
  const savedWrites = [process.stdout.write, process.stderr.write]
  for (const method of methods) {
    console[method] = (...args: unknown[]) => {
      logs.push(args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg))).join(' '))
    }
  }
  const record = (chunk: unknown) => {
    logs.push(String(chunk))
    return true
  }
  process.stdout.write = record as typeof process.stdout.write
  process.stderr.write = record as typeof process.stderr.write
  try {
    return { result: await run(), logs }
  } finally {
    methods.forEach((method, index) => {
      console[method] = savedConsole[index]!
    })
    ;[process.stdout.write, process.stderr.write] = savedWrites as [
      typeof process.stdout.write,
      typeof process.stderr.write,
    ]
  }
}
