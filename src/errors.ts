/**
 * Every failure in an invocation is an `ExtensionSecretsError` with a `code` from this union; what each
 * code means and how to fix it is in docs/errors.md, under the code. Messages and properties are built
 * from names, codes, statuses and a short excerpt of the extension's error body: never from a value,
 * never from the session token.
 */
export type ExtensionSecretsErrorCode =
  | 'EXTENSION_UNREACHABLE'
  | 'EXTENSION_NOT_READY'
  | 'TIMEOUT'
  | 'UPSTREAM_ERROR'
  | 'TOKEN_MISSING'
  | 'TOKEN_REJECTED'
  | 'MALFORMED_RESPONSE'
  | 'PARSE_ERROR'
  | 'VALIDATION_ERROR'
  | 'FETCH_FAILED'

export interface ExtensionSecretsErrorDetails {
  /** The `fetchData` key the value was meant for. */
  key?: string
  /** Parameter Store (`parameter`) or Secrets Manager (`secret`). */
  source?: 'parameter' | 'secret'
  /** The parameter name or secret id, as configured. */
  sourceName?: string
  /** HTTP requests sent for the value (0 when none could be sent). */
  attempts?: number
  /** Milliseconds spent, retries and backoff included. */
  elapsedMs?: number
  /** Status of the extension's last answer, when it was not 200. */
  status?: number
  /** The extension's last error body, when it was not 200: at most 200 characters, token removed. */
  body?: string
  /** `UPSTREAM_ERROR`: the layer's generic 400 came after 1 s or more, as a throttled read's does. */
  throttled?: boolean
  /** `FETCH_FAILED`: one error per failed key, in `fetchData` order. */
  errors?: ExtensionSecretsError[]
  cause?: unknown
}

const prefix = 'middy-extension-secrets: '

export class ExtensionSecretsError extends Error {
  override readonly name = 'ExtensionSecretsError'
  readonly code: ExtensionSecretsErrorCode
  declare readonly key?: string
  declare readonly source?: 'parameter' | 'secret'
  declare readonly sourceName?: string
  declare readonly attempts?: number
  declare readonly elapsedMs?: number
  declare readonly status?: number
  declare readonly body?: string
  declare readonly throttled?: boolean
  declare readonly errors?: ExtensionSecretsError[]

  constructor(code: ExtensionSecretsErrorCode, message: string, details: ExtensionSecretsErrorDetails = {}) {
    const { cause, ...known } = details
    super(prefix + message, cause === undefined ? undefined : { cause })
    this.code = code
    // Only what is known is set, so `util.inspect(error)` shows nothing empty.
    for (const [name, value] of Object.entries(known))
      if (value !== undefined) Object.assign(this, { [name]: value })
  }

  /** The message without the package prefix, for lists of failures. */
  get reason(): string {
    return this.message.slice(prefix.length)
  }
}

/**
 * Throttled upstream: a 429, the Secrets Manager Agent's 400 naming a `ThrottlingException`, or the
 * layer's generic 400 late enough to be throttling (`throttled`).
 */
export const isThrottled = (error: {
  status?: number | undefined
  body?: string | undefined
  throttled?: boolean | undefined
}): boolean => error.throttled === true || error.status === 429 || /Throttl/.test(error.body ?? '')

/**
 * Failures a stale value may stand in for (`staleIfError`'s default): the extension could not be reached,
 * was not ready, did not answer in time, was throttled (a layer 400 after 1 s or more counts) or answered
 * 5xx to the end. Not the layer's generic 400 given at once: it means a missing name or revoked access,
 * which an old value must not hide.
 */
export const isTransientError = (error: ExtensionSecretsError): boolean =>
  error.code === 'EXTENSION_UNREACHABLE' ||
  error.code === 'EXTENSION_NOT_READY' ||
  error.code === 'TIMEOUT' ||
  (error.code === 'UPSTREAM_ERROR' && (isThrottled(error) || (error.status ?? 0) >= 500))
