import type { MiddlewareObj } from '@middy/core'
import type { Context as LambdaContext } from 'aws-lambda'
import { createExtensionClient } from './client/extension-client.js'
import { invocationDeadline } from './deadline.js'
import { createLoader } from './loader.js'
import { type ExtensionSecretsOptions, resolveOptions } from './options.js'
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

/**
 * Middy middleware: before the handler, fetches every `fetchData` value from the AWS Parameters and
 * Secrets Lambda Extension (never during INIT), and puts them on `request.internal` and the context.
 * Throws a `TypeError` here, at creation, for any bad option.
 */
export function extensionSecrets<const O extends ExtensionSecretsOptions>(
  options: O & NoExtraKeys<O, ExtensionSecretsOptions>,
): MiddlewareObj<unknown, any, Error, ContextFor<O>, InternalFor<O>> {
  const resolved = resolveOptions(options)
  const { entries, setToContext, hideSecrets, deadlineMargin } = resolved
  const client = createExtensionClient({
    host: resolved.host,
    port: resolved.port,
    token: resolved.token,
    requestTimeout: resolved.requestTimeout,
    retry: resolved.retry,
  })
  const load = createLoader(resolved, client)
  // One descriptor per key, refilled for each invocation: defineProperty reads it at once, so reusing it
  // saves an allocation per hidden value on every invocation.
  const hidden = entries.map(() => ({
    value: undefined as unknown,
    enumerable: false,
    writable: true,
    configurable: true,
  }))

  // A long, unique name: Middy's plugin hooks receive it.
  const extensionSecretsMiddlewareBefore = async (request: {
    context: object
    internal: Record<string, unknown>
  }): Promise<undefined> => {
    const loaded = load(invocationDeadline(request.context, deadlineMargin))
    const values = Array.isArray(loaded) ? loaded : await loaded
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

  return { before: extensionSecretsMiddlewareBefore } as MiddlewareObj<
    unknown,
    any,
    Error,
    ContextFor<O>,
    InternalFor<O>
  >
}
