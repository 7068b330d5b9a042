import { inspect } from 'node:util'
import { expect } from 'vitest'
import { capturingLogs } from '../secrecy-scan.js'

// Everything an invocation against a hostile extension leaves where someone could read it: the error
// (message, body, cause, stack, util.inspect with hidden fields, each nested error), every onEvent
// event, every process warning and every console or stdout/stderr line.

/** The forms a server might echo a token in: raw, percent-encoded, JSON-escaped. */
export const tokenForms = (token: string): string[] => [
  token,
  encodeURIComponent(token),
  JSON.stringify(token).slice(1, -1),
]

/** Every 12-character stretch of `text`: a part of the token long enough to matter. */
const stretches = (text: string, size = 12): string[] => {
  const parts = new Set<string>()
  for (let i = 0; i + size <= text.length; i++) parts.add(text.slice(i, i + size))
  return [...parts]
}

const errorText = (error: unknown, seen = new Set<unknown>()): string => {
  if (error === undefined || error === null || seen.has(error)) return ''
  seen.add(error)
  if (typeof error !== 'object') return String(error)
  const record = error as {
    message?: unknown
    body?: unknown
    stack?: unknown
    cause?: unknown
    errors?: unknown
  }
  const nested = Array.isArray(record.errors) ? record.errors : []
  return [
    String(record.message),
    String(record.body),
    String(record.stack),
    inspect(error, { depth: 10, showHidden: true, getters: true }),
    JSON.stringify(error) ?? '',
    errorText(record.cause, seen),
    ...nested.map((item) => errorText(item, seen)),
  ].join('\n')
}

export interface Seen<T> {
  result: { value: T } | { error: unknown }
  events: unknown[]
  warnings: string[]
  logs: string[]
  unhandled: unknown[]
}

/** Runs an invocation, collecting its outcome, its events (via `events`), warnings, logs and unhandled rejections. */
export const observing = async <T>(events: unknown[], run: () => Promise<T>): Promise<Seen<T>> => {
  const warnings: string[] = []
  const unhandled: unknown[] = []
  const onWarning = (warning: Error) => warnings.push(`${warning.name} ${warning.message} ${warning.stack}`)
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  process.on('warning', onWarning)
  process.on('unhandledRejection', onUnhandled)
  try {
    const { result, logs } = await capturingLogs(() =>
      run().then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
    )
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve))
    return { result, events, warnings, logs, unhandled }
  } finally {
    process.off('warning', onWarning)
    process.off('unhandledRejection', onUnhandled)
  }
}

/** No channel holds the token (in any form, or any 12-character stretch of it) or any of `secrets`. */
export const expectNoLeak = (seen: Seen<unknown>, token: string, secrets: readonly string[]) => {
  const channels: Record<string, string> = {
    error: 'error' in seen.result ? errorText(seen.result.error) : '',
    events: inspect(seen.events, { depth: 10 }),
    warnings: seen.warnings.join('\n'),
    logs: seen.logs.join('\n'),
  }
  const needles = [...new Set([...tokenForms(token).flatMap((form) => stretches(form)), ...secrets])]
  for (const [channel, text] of Object.entries(channels)) {
    const found = needles.find((needle) => text.includes(needle))
    expect(found, `${channel} holds a part of the token or a secret`).toBeUndefined()
  }
  expect(seen.unhandled).toEqual([])
}
