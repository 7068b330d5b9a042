/**
 * Every failure this package reports is an `ExtensionSecretsError` with a `code` from this union.
 * Messages and properties are built only from names, codes, statuses and the extension's own error
 * bodies: never from a fetched value or the session token.
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

export type SourceService = 'parameter' | 'secret'

export interface ExtensionSecretsErrorDetails {
  /** The `fetchData` key the value was meant for. */
  key?: string
  /** Where the value comes from: Parameter Store (`parameter`) or Secrets Manager (`secret`). */
  source?: SourceService
  /** The parameter name or secret id, as configured. */
  name?: string
  /** HTTP requests sent for this value (0 when none could be sent). */
  attempts?: number
  /** Milliseconds spent fetching, retries and backoff included. */
  elapsedMs?: number
  /** Status of the extension's last answer, only when it was not 200. */
  status?: number
  /** Text body of the extension's last answer, only when it was not 200 (capped). */
  body?: string
  /** Per-key errors of a `FETCH_FAILED` error. */
  errors?: ExtensionSecretsError[]
  cause?: unknown
}

const messagePrefix = 'middy-extension-secrets: '

export class ExtensionSecretsError extends Error {
  override readonly name = 'ExtensionSecretsError'
  readonly code: ExtensionSecretsErrorCode
  readonly key?: string
  readonly source?: SourceService
  readonly sourceName?: string
  readonly attempts?: number
  readonly elapsedMs?: number
  readonly status?: number
  readonly body?: string
  readonly errors?: ExtensionSecretsError[]

  constructor(code: ExtensionSecretsErrorCode, message: string, details: ExtensionSecretsErrorDetails = {}) {
    super(messagePrefix + message, details.cause === undefined ? undefined : { cause: details.cause })
    this.code = code
    // Only defined properties are set, so `util.inspect(error)` shows what is known and nothing else.
    if (details.key !== undefined) this.key = details.key
    if (details.source !== undefined) this.source = details.source
    if (details.name !== undefined) this.sourceName = details.name
    if (details.attempts !== undefined) this.attempts = details.attempts
    if (details.elapsedMs !== undefined) this.elapsedMs = details.elapsedMs
    if (details.status !== undefined) this.status = details.status
    if (details.body !== undefined) this.body = details.body
    if (details.errors !== undefined) this.errors = details.errors
  }

  /** The message without the package prefix, for composing lists of failures. */
  get reason(): string {
    return this.message.startsWith(messagePrefix) ? this.message.slice(messagePrefix.length) : this.message
  }
}

/** Describes a source for messages: `secret "prod/db"`. */
export const describeSource = (source: SourceService, name: string): string =>
  `${source} ${JSON.stringify(name)}`
