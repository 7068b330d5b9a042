import type { ExtensionSecretsErrorCode } from './errors.js'

/** What every per-key event names: the key and its source (a name, never a value). */
interface About {
  key: string
  source: 'parameter' | 'secret'
  name: string
}

/**
 * What the middleware did, one event per key and invocation: served from this package's cache (`hit`),
 * fetched from the extension (`fetched`), an `optional` value that does not exist (`missing`), a failure
 * (`failed`), or the last good value served for a failed refresh (`stale`). Never a value or the token.
 */
export type ExtensionSecretsEvent =
  | (About & {
      type: 'hit'
      /** Time since the value arrived from the extension (ms). */
      ageMs: number
    })
  | (About & {
      type: 'fetched'
      /** `off`: caching off; `miss`: nothing cached; `expired`; `shared`: joined a concurrent invocation's fetch. */
      cache: 'off' | 'miss' | 'expired' | 'shared'
      /** HTTP requests sent (several while the extension was not ready; 0 when `shared`). */
      attempts: number
      elapsedMs: number
    })
  | (About & {
      type: 'missing' | 'failed' | 'stale'
      code: ExtensionSecretsErrorCode
      status?: number
      attempts: number
      elapsedMs: number
      ageMs?: number
    })

export type EventHook = (event: ExtensionSecretsEvent) => unknown

/**
 * Observing must never fail an invocation: a hook that throws or rejects is reported once per middleware
 * as a process warning and otherwise ignored.
 */
export const createEmit = (hook: EventHook | undefined) => {
  if (hook === undefined) return undefined
  let warned = false
  const report = (error: unknown) => {
    if (warned) return
    warned = true
    process.emitWarning(
      `middy-extension-secrets: onEvent failed and is ignored (${error instanceof Error ? error.name : typeof error})`,
      {
        code: 'MIDDY_EXTENSION_SECRETS_ON_EVENT',
      },
    )
  }
  return (event: ExtensionSecretsEvent) => {
    try {
      const result = hook(event) as PromiseLike<unknown> | undefined
      if (typeof result?.then === 'function') Promise.resolve(result).catch(report)
    } catch (error) {
      report(error)
    }
  }
}
