import type { SourceRef } from './source-ref.js'

/** A value as the extension delivered it, before any `parse`. */
export type RawValue = RawText | RawBinary

export interface RawText {
  kind: 'text'
  text: string
  /** The parameter's `Type`; absent for secrets. */
  parameterType?: string
  /** From Secrets Manager, or a SecureString (or of unknown type): kept out of logs by `hideSecrets`. */
  sensitive: boolean
}

export interface RawBinary {
  kind: 'binary'
  bytes: Uint8Array
  sensitive: true
}

/** Why a 200 answer could not be read. The text never quotes the body: it holds the secret. */
export class MalformedAnswer extends Error {
  override readonly name = 'MalformedAnswer'
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/

const decodeBase64 = (text: string, what: string): Uint8Array => {
  if (text.length % 4 !== 0 || !base64Pattern.test(text))
    throw new MalformedAnswer(`${what} is not valid base64`)
  return new Uint8Array(Buffer.from(text, 'base64'))
}

const parseJsonBody = (body: Buffer): unknown => {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    // The SyntaxError quotes the body, which holds the value: it is dropped, not chained.
    throw new MalformedAnswer('the body is not JSON')
  }
}

const readSecretOutput = (output: unknown, what: string): RawValue => {
  if (!isRecord(output)) throw new MalformedAnswer(`${what} is not a JSON object`)
  const { SecretString, SecretBinary } = output
  if (typeof SecretString === 'string') return { kind: 'text', text: SecretString, sensitive: true }
  if (typeof SecretBinary === 'string')
    return { kind: 'binary', bytes: decodeBase64(SecretBinary, 'SecretBinary'), sensitive: true }
  throw new MalformedAnswer(`${what} has neither SecretString nor SecretBinary`)
}

/**
 * `SourceResult` comes from another service than the layer's own answer: captures show camelCase keys
 * and binary bytes as a serialized Java ByteBuffer (signed bytes in `hb`, read from `offset` to `limit`).
 * The SDK's own shape is read too, in case that changes.
 */
const readSourceResult = (output: unknown): RawValue => {
  if (!isRecord(output)) throw new MalformedAnswer('Parameter.SourceResult is not a JSON object')
  if (typeof output.secretString === 'string')
    return { kind: 'text', text: output.secretString, sensitive: true }
  const buffer = output.secretBinary
  if (isRecord(buffer) && Array.isArray(buffer.hb)) {
    const signed = buffer.hb
    const offset = typeof buffer.offset === 'number' ? buffer.offset : 0
    const limit = typeof buffer.limit === 'number' ? buffer.limit : signed.length
    if (
      !signed.every((byte) => Number.isInteger(byte) && byte >= -128 && byte <= 255) ||
      limit > signed.length ||
      offset > limit
    ) {
      throw new MalformedAnswer('Parameter.SourceResult.secretBinary is not a byte buffer')
    }
    return {
      kind: 'binary',
      bytes: Uint8Array.from(signed.slice(offset, limit) as number[], (byte) => byte & 0xff),
      sensitive: true,
    }
  }
  return readSecretOutput(output, 'Parameter.SourceResult')
}

const readParameterOutput = (output: unknown): RawValue => {
  if (!isRecord(output) || !isRecord(output.Parameter))
    throw new MalformedAnswer('the answer has no Parameter object')
  const { Type, Value, SourceResult } = output.Parameter
  const parameterType = typeof Type === 'string' ? Type : undefined
  const sensitive = parameterType !== 'String' && parameterType !== 'StringList'
  if (typeof Value === 'string') {
    return parameterType === undefined
      ? { kind: 'text', text: Value, sensitive }
      : { kind: 'text', text: Value, parameterType, sensitive }
  }
  // A binary secret read through /aws/reference/secretsmanager/ has no Value: its bytes are only in
  // SourceResult, the secret's own GetSecretValue output as a JSON string.
  if (Value === null && typeof SourceResult === 'string') {
    let source: unknown
    try {
      source = JSON.parse(SourceResult)
    } catch {
      throw new MalformedAnswer('Parameter.SourceResult is not JSON')
    }
    return readSourceResult(source)
  }
  throw new MalformedAnswer('Parameter.Value is not a string')
}

/** Reads a 200 body: the AWS SDK output object as JSON. Only the value fields are relied on. */
export const readValue = (ref: SourceRef, body: Buffer): RawValue => {
  const output = parseJsonBody(body)
  return ref.service === 'secret' ? readSecretOutput(output, 'the answer') : readParameterOutput(output)
}

/** What a non-200 answer means for the caller. */
export type RefusalKind =
  /** The extension is up but not serving yet (cold start): retry. */
  | 'not-ready'
  /** 429 or 5xx: overloaded or an upstream failure the agent reports with its own status: retry. */
  | 'retryable-status'
  /** 401/403: the token was refused. */
  | 'token'
  /** The generic 400 and other 4xx: the request will not succeed by repeating it. */
  | 'upstream'
  /** Anything else (1xx, 3xx): not an answer the extension gives. */
  | 'unexpected'

// The layer's exact text is `not ready to serve traffic, please wait`; matching the phrase keeps working
// if the wording around it changes.
const notReadyPattern = /not ready/i

export const classifyRefusal = (status: number, bodyText: string): RefusalKind => {
  if (status === 400 && notReadyPattern.test(bodyText)) return 'not-ready'
  if (status === 429 || (status >= 500 && status <= 599)) return 'retryable-status'
  if (status === 401 || status === 403) return 'token'
  if (status >= 400 && status <= 499) return 'upstream'
  return 'unexpected'
}
