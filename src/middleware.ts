import type { MiddlewareObj } from '@middy/core'
import type { Context as LambdaContext } from 'aws-lambda'
import { describe, fail } from './checks.js'
import { createExtensionClient } from './client/extension-client.js'
import { ExtensionSecretsError } from './errors.js'
import { createLoader, type LoadedValues } from './loader.js'
import { type ExtensionSecretsOptions, resolveOptions } from './options.js'
import { runRefreshOn } from './refresh-on.js'
import type { NoExtraKeys, ValuesOf } from './sources.js'

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

/** What `extensionSecrets()` returns: the Middy middleware, and a way to drop cached values. */
export type ExtensionSecretsMiddleware<O extends ExtensionSecretsOptions> = MiddlewareObj<
  unknown,
  any,
  Error,
  ContextFor<O>,
  InternalFor<O>
> & {
  /**
   * Drops the cached values of these `fetchData` keys (all when omitted), so the next invocation fetches
   * them from the extension (past its cache too, with `bypassExtensionCache`). Throws a `TypeError` for
   * a key that is not in `fetchData`.
   */
  invalidate(keys?: readonly (keyof O['fetchData'] & string)[]): void
}

/**
 * Middy middleware: before the handler, fetches every `fetchData` value from the AWS Parameters and
 * Secrets Lambda Extension (never during INIT), and puts them on `request.internal` and the context.
 * Throws a `TypeError` here, at creation, for any bad option.
 */
export function extensionSecrets<const O extends ExtensionSecretsOptions>(
  options: O & NoExtraKeys<O, ExtensionSecretsOptions>,
): ExtensionSecretsMiddleware<O> {
  const resolved = resolveOptions(options)
  const { entries, setToContext, hideSecrets, emit, refreshOn } = resolved
  const client = createExtensionClient({
    host: resolved.host,
    port: resolved.port,
    token: resolved.token,
    requestTimeout: resolved.requestTimeout,
    retry: resolved.retry,
  })
  const loader = createLoader(resolved, client)
  const keys = entries.map((entry) => entry.key)
  const allKeys = keys.map((_, index) => index)
  // One descriptor per key, refilled for each invocation: defineProperty reads it at once, so reusing it
  // saves an allocation per hidden value on every invocation.
  const hidden = entries.map(() => ({
    value: undefined as unknown,
    enumerable: false,
    writable: true,
    configurable: true,
  }))

  const assign = (request: Request, values: LoadedValues): undefined => {
    const { context, internal } = request
    for (let index = 0; index < entries.length; index++) {
      const key = entries[index]!.key
      const { value, sensitive } = values[index]!
      internal[key] = value
      if (!setToContext) continue
      if (hideSecrets && sensitive) {
        // Non-enumerable: `context.db` reads normally, but JSON.stringify, util.inspect and loggers that
        // serialize the context skip it.
        const descriptor = hidden[index]!
        descriptor.value = value
        Object.defineProperty(context, key, descriptor)
        descriptor.value = undefined
      } else {
        ;(context as Record<string, unknown>)[key] = value
      }
    }
    // Any other return value would end the chain and become the response.
    return undefined
  }

  // A long, unique name: Middy's plugin hooks receive it. Not `async`: when every value is cached, the
  // hook finishes without making a promise.
  const extensionSecretsMiddlewareBefore = (request: Request): undefined | Promise<undefined> => {
    const loaded = loader.load(request.context)
    if (loaded instanceof Promise) return loaded.then((values) => assign(request, values))
    return assign(request, loaded)
  }

  const invalidate = (indexes: number[], trigger: 'invalidate' | 'refreshOn') => {
    loader.invalidate(indexes)
    emit?.({ type: 'invalidated', keys: indexes.map((index) => keys[index]!), trigger })
  }

  const middleware: Record<string, unknown> = {
    before: extensionSecretsMiddlewareBefore,
    invalidate: (selected?: readonly string[]) => {
      invalidate(selected === undefined ? allKeys : indexesOf(keys, selected), 'invalidate')
    },
  }
  if (refreshOn !== undefined) {
    // Never throws and returns undefined: a throw here would replace the handler's error, and a value
    // would become the response.
    const extensionSecretsMiddlewareOnError = (request: {
      error?: unknown
    }): undefined | Promise<undefined> => {
      const error = request.error
      // This package's own failures leave nothing cached to drop.
      if (error instanceof ExtensionSecretsError) return undefined
      return runRefreshOn(keys, refreshOn, error, (indexes) => {
        if (indexes.length > 0) invalidate(indexes, 'refreshOn')
      })
    }
    middleware.onError = extensionSecretsMiddlewareOnError
  }
  return middleware as unknown as ExtensionSecretsMiddleware<O>
}

interface Request {
  context: object
  internal: Record<string, unknown>
}

const indexesOf = (keys: readonly string[], selected: unknown): number[] => {
  if (!Array.isArray(selected))
    fail('invalidate(keys)', `must be an array of fetchData keys, got ${describe(selected)}`)
  return (selected as unknown[]).map((key) => {
    const index = typeof key === 'string' ? keys.indexOf(key) : -1
    if (index === -1)
      fail(
        'invalidate(keys)',
        `names ${describe(key)}, which is not a fetchData key; keys: ${keys.join(', ')}`,
      )
    return index
  })
}
