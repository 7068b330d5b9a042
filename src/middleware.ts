import type { MiddlewareObj } from '@middy/core'
import type { Context as LambdaContext } from 'aws-lambda'
import { describe, fail } from './checks.js'
import type { CheckedFetchData, NoExtraKeys, ValuesOf } from './entries.js'
import { createEmit } from './events.js'
import { loadRetry } from './extension.js'
import { createLoad, type Loaded, type Slot } from './load.js'
import { addressReader, type ExtensionSecretsOptions, resolveOptions } from './options.js'

/** The values by key, as `request.internal` holds them. */
export type InternalFor<O extends ExtensionSecretsOptions> = ValuesOf<O['fetchData']>

/** The handler's context: the values are on it unless `setToContext` is `false`. */
export type ContextFor<O extends ExtensionSecretsOptions> = O extends { setToContext: false }
  ? LambdaContext
  : O extends { setToContext: true }
    ? LambdaContext & InternalFor<O>
    : 'setToContext' extends keyof O
      ? // A `boolean` only known at run time: the values may or may not be there.
        LambdaContext & Partial<InternalFor<O>>
      : LambdaContext & InternalFor<O>

/** What `extensionSecrets()` returns: the Middy middleware, a way to drop cached values, its `fetchData`. */
export type ExtensionSecretsMiddleware<O extends ExtensionSecretsOptions> = MiddlewareObj<
  unknown,
  any,
  Error,
  ContextFor<O>,
  InternalFor<O>
> & {
  /**
   * Drops the cached values of these keys (all when omitted): the next invocation fetches them again.
   * With `{ refreshNow: true }`, that fetch of a secret also skips the AWS Secrets Manager Agent's cache
   * (the Lambda layer has no such switch). Throws a `TypeError` for a key not in `fetchData`.
   */
  invalidate(keys?: readonly (keyof O['fetchData'] & string)[], options?: { refreshNow?: boolean }): void
  /** The `fetchData` it was made with, for deployment helpers that derive permissions from it. */
  readonly fetchData: O['fetchData']
}

type Util = typeof import('@middy/util')

/**
 * Middy middleware: before the handler, fetches every `fetchData` value from the AWS Parameters and
 * Secrets Lambda Extension (never during INIT) and puts them on `request.internal` and the context.
 * Throws a `TypeError` at creation for any bad option.
 */
export function extensionSecrets<const O extends ExtensionSecretsOptions>(
  options: O & NoExtraKeys<O, ExtensionSecretsOptions> & { fetchData: CheckedFetchData<O['fetchData']> },
): ExtensionSecretsMiddleware<O> {
  const resolved = resolveOptions(options)
  // Started at creation, in INIT, without waiting for it. Starting it after creation (setImmediate) makes
  // creation a millisecond faster on Node 20, but the import then runs when the first event is already
  // waiting: the user waits for it all the same.
  loadRetry().catch(() => undefined)
  const { entries, setToContext, hideSecrets, cacheKey } = resolved
  const keys = entries.map((entry) => entry.key)

  // `@middy/util` holds the cache, so its `clearCache()` empties this package's stores too. It is loaded
  // only when caching is on: a handler that asks every invocation never pays for it. Its store is
  // registered with cacheExpiry -1, which sets no refresh timer: freshness is checked per key.
  let util: Util | undefined
  const utilLoaded =
    resolved.cacheExpiry === 0 ? undefined : import('@middy/util').then((module) => (util = module))
  const name = `middy-extension-secrets:${cacheKey}`
  const storeOf = () =>
    util === undefined
      ? undefined
      : (((util.getCache(name) as { value?: Map<string, Slot> }).value ??
          util.processCache({ cacheKey: name, cacheExpiry: -1 }, () => new Map()).value) as Map<string, Slot>)
  const { load, invalidate } = createLoad(
    resolved,
    addressReader(resolved.host, resolved.port),
    storeOf,
    createEmit(resolved.onEvent),
  )

  // One descriptor per key, refilled per invocation: defineProperty reads it at once.
  const hidden = keys.map(() => ({
    value: undefined as unknown,
    enumerable: false,
    writable: true,
    configurable: true,
  }))
  const assign = (
    request: { context: object; internal: Record<string, unknown> },
    values: (Loaded | undefined)[],
  ): undefined => {
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index]!
      const loaded = values[index]
      request.internal[key] = loaded?.value
      if (!setToContext) continue
      if (hideSecrets && loaded?.sensitive) {
        // Non-enumerable: `context.db` reads as usual, but JSON.stringify, util.inspect and loggers skip it.
        hidden[index]!.value = loaded.value
        Object.defineProperty(request.context, key, hidden[index]!)
        hidden[index]!.value = undefined
      } else (request.context as Record<string, unknown>)[key] = loaded?.value
    }
    // Any other return value would end the chain and become the response.
    return undefined
  }

  // A long, unique name: Middy's plugin hooks receive it. Not `async`: a warm invocation with every value
  // cached makes no promise.
  const extensionSecretsMiddlewareBefore = (request: {
    context: object
    internal: Record<string, unknown>
  }): undefined | Promise<undefined> => {
    if (util === undefined && utilLoaded !== undefined)
      return utilLoaded.then(() => extensionSecretsMiddlewareBefore(request))
    const loaded = load(request.context)
    return loaded instanceof Promise
      ? loaded.then((values) => assign(request, values))
      : assign(request, loaded)
  }

  return {
    before: extensionSecretsMiddlewareBefore,
    fetchData: options.fetchData,
    invalidate: (selected?: readonly string[], how?: { refreshNow?: boolean }) => {
      if (selected !== undefined && !Array.isArray(selected))
        fail('invalidate(keys)', `must be an array of fetchData keys, got ${describe(selected)}`)
      const indexes = (selected ?? keys).map((key) => {
        const index = keys.indexOf(key)
        if (index === -1)
          fail('invalidate(keys)', `names ${describe(key)}, not a fetchData key (${keys.join(', ')})`)
        return index
      })
      invalidate(indexes, how?.refreshNow === true)
    },
  } as unknown as ExtensionSecretsMiddleware<O>
}

/** Checks options as `extensionSecrets` does, without making a middleware. Throws a `TypeError`. */
export const extensionSecretsValidateOptions = (options: unknown): void => {
  resolveOptions(options)
}
