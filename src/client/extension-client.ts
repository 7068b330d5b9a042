import { describeSource, ExtensionSecretsError, type ExtensionSecretsErrorCode } from '../errors.js'
import { classifyRefusal, MalformedAnswer, type RawValue, readValue } from './answers.js'
import { BodyTooLarge, ConnectionFailure, getOnce, isValidHeaderValue } from './http.js'
import { RetryableAttempt, type RetryableOutcome, type RetryOptions, retryUntil } from './retry-policy.js'
import { requestPath, type SourceRef } from './source-ref.js'

export interface ExtensionClientConfig {
  /** A loopback address: the token is sent with every request. */
  host: string
  port: number
  /** The session token; when undefined, `AWS_SESSION_TOKEN` is read at each request. */
  token?: string | undefined
  /** Time allowed for one HTTP attempt (ms), cut to what is left of the budget. */
  requestTimeout: number
  retry: RetryOptions
}

export interface FetchOptions {
  /** A `performance.now()` time after which no attempt is started and the running one is cut. */
  deadline?: number
}

export interface Fetched {
  value: RawValue
  attempts: number
  elapsedMs: number
  /** Time before the attempt that succeeded began: spent waiting for the extension to be ready (ms). */
  readinessWaitMs: number
}

export interface ExtensionClient {
  get(ref: SourceRef, options?: FetchOptions): Promise<Fetched>
}

/** The budget ran out before an attempt could start. */
class BudgetSpent extends Error {
  override readonly name = 'BudgetSpent'
}

/** 1 MiB: far above the 64 KiB a secret or an advanced parameter can hold, with its JSON envelope. */
export const maxBodyBytes = 1024 * 1024
const maxErrorBodyChars = 1024
/** An attempt given less time than this, at the end of the budget, is not evidence of a hang. */
const squeezedAttemptMs = 50

const upstreamHint =
  'through the extension, a missing name, a missing version, label or stage, an IAM or KMS denial and ' +
  "upstream throttling all give this same answer; the real cause is in the function's CloudWatch logs, " +
  'where the extension logs it'

const quote = (text: string, max = 200): string =>
  JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text)

export const createExtensionClient = (config: ExtensionClientConfig): ExtensionClient => {
  const address = `${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`

  const readToken = (): string | undefined => config.token ?? process.env.AWS_SESSION_TOKEN

  const get = async (ref: SourceRef, options: FetchOptions = {}): Promise<Fetched> => {
    const started = performance.now()
    const deadline = Math.min(
      started + config.retry.maxRetryTime,
      options.deadline ?? Number.POSITIVE_INFINITY,
    )
    const what = describeSource(ref.service, ref.name)
    let attempts = 0
    let lastAttemptAt = started
    let sawNotReady = false
    let lastOutcome: RetryableOutcome | undefined

    const fail = (
      code: ExtensionSecretsErrorCode,
      message: string,
      extra: { status?: number; body?: string; cause?: unknown } = {},
    ) =>
      new ExtensionSecretsError(code, message, {
        source: ref.service,
        name: ref.name,
        attempts,
        elapsedMs: Math.round(performance.now() - started),
        ...extra,
      })

    const token = readToken()
    if (!token) {
      throw fail(
        'TOKEN_MISSING',
        `no session token for ${what}: AWS_SESSION_TOKEN is not set (outside Lambda, or restoring a SnapStart snapshot) and no \`token\` option was given; no request was sent`,
      )
    }
    if (!isValidHeaderValue(token)) {
      throw fail(
        'TOKEN_MISSING',
        `the session token for ${what} is not a valid HTTP header value; no request was sent`,
      )
    }
    const path = requestPath(ref)

    const attempt = async (): Promise<RawValue> => {
      const left = deadline - performance.now()
      if (left < 1) throw new BudgetSpent()
      attempts++
      lastAttemptAt = performance.now()
      const timeoutMs = Math.max(1, Math.min(config.requestTimeout, Math.floor(left)))
      let answer: Awaited<ReturnType<typeof getOnce>>
      try {
        answer = await getOnce({
          host: config.host,
          port: config.port,
          path,
          token,
          timeoutMs,
          maxBodyBytes,
        })
      } catch (error) {
        if (error instanceof BodyTooLarge) {
          throw fail('MALFORMED_RESPONSE', `the answer for ${what} is larger than ${maxBodyBytes} bytes`)
        }
        if (error instanceof ConnectionFailure) {
          const outcome: RetryableOutcome = { kind: error.kind }
          // A last attempt squeezed into the tail of the budget says nothing about the extension: the
          // outcomes before it explain the failure better than its timeout. A longer attempt that hung
          // does say something (the extension took the request and never answered).
          const squeezed = error.kind === 'timeout' && timeoutMs < squeezedAttemptMs
          if (!squeezed || lastOutcome === undefined) lastOutcome = outcome
          throw new RetryableAttempt(outcome.kind)
        }
        throw error
      }
      const { status } = answer
      if (status === 200) {
        try {
          return readValue(ref, answer.body)
        } catch (error) {
          if (error instanceof MalformedAnswer) {
            throw fail(
              'MALFORMED_RESPONSE',
              `the extension's 200 answer for ${what} is not what it sends: ${error.message}`,
            )
          }
          throw error
        }
      }
      const text = answer.body.toString('utf8')
      const body = text.length > maxErrorBodyChars ? text.slice(0, maxErrorBodyChars) : text
      const kind = classifyRefusal(status, text)
      if (kind === 'not-ready' || kind === 'retryable-status') {
        if (kind === 'not-ready') sawNotReady = true
        lastOutcome = { kind, status, body }
        throw new RetryableAttempt(kind)
      }
      if (kind === 'token') {
        throw fail(
          'TOKEN_REJECTED',
          `the extension refused the session token for ${what} (${status} ${quote(body)}); it must be this function's AWS_SESSION_TOKEN`,
          { status, body },
        )
      }
      if (kind === 'upstream') {
        throw fail(
          'UPSTREAM_ERROR',
          `the extension answered ${status} ${quote(body)} for ${what}: ${upstreamHint}`,
          { status, body },
        )
      }
      // A 2xx body may hold the value: it is never kept.
      throw fail(
        'MALFORMED_RESPONSE',
        `the extension answered with unexpected status ${status} for ${what}`,
        status >= 200 && status <= 299 ? { status } : { status, body },
      )
    }

    try {
      const value = await retryUntil(attempt, deadline, config.retry)
      return {
        value,
        attempts,
        elapsedMs: Math.round(performance.now() - started),
        readinessWaitMs: Math.round(lastAttemptAt - started),
      }
    } catch (error) {
      if (error instanceof ExtensionSecretsError) throw error
      if (!(error instanceof RetryableAttempt) && !(error instanceof BudgetSpent)) throw error
      throw budgetSpentError(lastOutcome, sawNotReady)
    }

    function budgetSpentError(last: RetryableOutcome | undefined, notReady: boolean): ExtensionSecretsError {
      const spent = `${attempts} attempt${attempts === 1 ? '' : 's'} over ${Math.round(performance.now() - started)} ms`
      const budget =
        "the wait is bounded by retry.maxRetryTime and by the invocation's remaining time minus deadlineMargin"
      if (attempts === 0) {
        return fail(
          'TIMEOUT',
          `no time was left to ask the extension for ${what}: the invocation's remaining time was below deadlineMargin; no request was sent`,
        )
      }
      if (last === undefined || last.kind === 'timeout') {
        return fail(
          'TIMEOUT',
          `no answer from the extension at ${address} for ${what} in time (${spent}); ${budget}`,
        )
      }
      if (notReady) {
        const extra = 'status' in last ? { status: last.status, body: last.body } : {}
        return fail(
          'EXTENSION_NOT_READY',
          `the extension at ${address} was still not ready to serve ${what} (${spent}); it serves only during invocations, never during INIT; ${budget}`,
          extra,
        )
      }
      if ('status' in last) {
        return fail(
          'UPSTREAM_ERROR',
          `the extension kept answering ${last.status} ${quote(last.body)} for ${what} (${spent})`,
          { status: last.status, body: last.body },
        )
      }
      if (last.kind === 'cut') {
        // The extension answered, so "unreachable" would send the reader to check the layer and port;
        // what arrived was never a whole answer, which is what MALFORMED_RESPONSE reports.
        return fail(
          'MALFORMED_RESPONSE',
          `the extension at ${address} kept closing the connection before its answer for ${what} was complete (${spent})`,
        )
      }
      return fail(
        'EXTENSION_UNREACHABLE',
        `could not reach the extension at ${address} for ${what} (${spent}, last: connection ${last.kind}); is the AWS Parameters and Secrets Lambda Extension layer attached, and does PARAMETERS_SECRETS_EXTENSION_HTTP_PORT match?`,
      )
    }
  }

  return { get }
}
