import { ExtensionSecretsError } from '../src/errors.js'
import { type Connection, getFromExtension, requestPath, type Source } from '../src/extension.js'
import { defaults, type RetryOptions } from '../src/options.js'
import { type RawValue, readBody, ValueFailure } from '../src/value.js'
import { testToken } from './helpers.js'

// The protocol layer without Middy, as load.ts drives it: one GET (with readiness retries) and the 200
// body read into a raw value. A failure becomes an ExtensionSecretsError with the core's own code,
// reason, status, body and counts, so tests read it as they read a key's error.

export interface ClientOptions {
  port: number
  host?: string
  token?: string | undefined
  requestTimeout?: number
  retry?: Partial<RetryOptions>
}

export interface Fetched {
  value: RawValue
  attempts: number
  elapsedMs: number
}

export const connectionFor = (options: ClientOptions): Connection => ({
  host: options.host ?? '127.0.0.1',
  port: options.port,
  portFrom: 'the `port` option',
  token: 'token' in options ? options.token : testToken,
  requestTimeout: options.requestTimeout ?? 1_000,
  retry: { ...defaults.retry, ...options.retry },
})

export const extensionClient = (options: ClientOptions) => {
  const connection = connectionFor(options)
  return {
    connection,
    /** The raw value, or a rejection with an ExtensionSecretsError. */
    async get(source: Source, signal?: AbortSignal): Promise<Fetched> {
      const answer = await getFromExtension(connection, requestPath(source), signal)
      const counts = { attempts: answer.attempts, elapsedMs: answer.elapsedMs }
      if ('failure' in answer) {
        const { code, reason, status, body } = answer.failure
        throw new ExtensionSecretsError(code, reason, { ...counts, status, body })
      }
      try {
        return { value: readBody(source.service, answer.body), ...counts }
      } catch (error) {
        if (!(error instanceof ValueFailure)) throw error
        throw new ExtensionSecretsError(error.code, error.reason, counts)
      }
    },
  }
}
