import type { MiddlewareObj } from '@middy/core'
import { ExtensionSecretsError } from './errors.js'

/** What `refreshOn`'s predicate answers: drop every cached value (`true`), none, or those of the keys. */
export type RefreshOnAnswer<K extends string = string> = boolean | readonly K[]

export interface RefreshOnOptions {
  /** Also skip the AWS Secrets Manager Agent's cache on the next fetch (see `invalidate`). */
  refreshNow?: boolean
}

interface Invalidates<K extends string> {
  invalidate(keys?: readonly K[], options?: { refreshNow?: boolean }): void
  readonly fetchData: Record<K, unknown>
}

/**
 * A Middy middleware that drops cached values when the handler fails in a way that says they are stale,
 * e.g. a database that refuses a rotated password:
 * `middy(handler).use(secrets).use(refreshOn(secrets, (error) => isAuthError(error) && ['db']))`.
 * The predicate may be async. It runs in Middy's `onError`, where a throw would replace the handler's
 * error and a returned value would become the response: so this never throws and returns nothing; a
 * predicate that throws, or names a key not in `fetchData`, drops every key (one extra fetch costs less
 * than a stale credential), with a process warning.
 */
export const refreshOn = <K extends string>(
  secrets: Invalidates<K>,
  predicate: (
    error: unknown,
  ) => RefreshOnAnswer<NoInfer<K>> | undefined | PromiseLike<RefreshOnAnswer<NoInfer<K>> | undefined>,
  options: RefreshOnOptions = {},
): MiddlewareObj => {
  if (typeof secrets?.invalidate !== 'function')
    throw new TypeError(
      'middy-extension-secrets: refreshOn(secrets, …) needs the middleware made by extensionSecrets()',
    )
  if (typeof predicate !== 'function')
    throw new TypeError(
      'middy-extension-secrets: refreshOn(…, predicate) needs a function (error) => boolean | string[]',
    )
  const keys = Object.keys(secrets.fetchData) as K[]
  const how = { refreshNow: options.refreshNow === true }
  const apply = (answer: unknown) => {
    if (answer === false || answer == null || (Array.isArray(answer) && answer.length === 0)) return
    const known = Array.isArray(answer) && answer.every((key) => keys.includes(key))
    if (answer !== true && !known)
      warn(
        `refreshOn answered ${Array.isArray(answer) ? 'a key not in fetchData' : typeof answer}; every key is refreshed`,
      )
    secrets.invalidate(known ? (answer as K[]) : keys, how)
  }
  const refreshOnMiddlewareOnError = async (request: { error?: unknown }): Promise<undefined> => {
    // This package's own failures leave nothing cached to drop.
    if (request.error instanceof ExtensionSecretsError) return undefined
    try {
      apply(await predicate(request.error))
    } catch (failure) {
      warn(
        `refreshOn's predicate failed (${failure instanceof Error ? failure.name : typeof failure}); every key is refreshed`,
      )
      secrets.invalidate(keys, how)
    }
    return undefined
  }
  return { onError: refreshOnMiddlewareOnError }
}

const warn = (message: string) =>
  process.emitWarning(`middy-extension-secrets: ${message}`, { code: 'MIDDY_EXTENSION_SECRETS_REFRESH_ON' })
