// docs/errors.md shows this middleware.
import type { MiddlewareObj } from '@middy/core'
import { ExtensionSecretsError } from 'middy-extension-secrets'

// #region log-failed-keys
/**
 * Logs one structured line per key that could not be fetched, then lets the error go on (to Middy's
 * error handler or to Lambda). Nothing it logs can hold a value or the token.
 */
export const logFailedKeys = (log: (line: string) => void = console.error): MiddlewareObj => ({
  onError: async (request) => {
    const error = request.error
    if (!(error instanceof ExtensionSecretsError) || error.code !== 'FETCH_FAILED') return
    for (const failure of error.errors ?? []) {
      log(
        JSON.stringify({
          key: failure.key,
          code: failure.code,
          source: failure.source,
          name: failure.sourceName,
          status: failure.status,
          attempts: failure.attempts,
          elapsedMs: failure.elapsedMs,
          reason: failure.reason,
        }),
      )
    }
  },
})
// #endregion log-failed-keys
