import type { StandardSchemaV1 } from './standard-schema.js'

// What a 200 body becomes: the raw value (SDK shapes, SourceResult), then parse → field → schema.
// Failures return a short reason; the caller makes the one error per key. No reason quotes the body or
// the value: JSON.parse errors and validator messages may, so they are never passed through as they are,
// except validator messages about values that are not secret (see docs/decisions/0014-lean-core.md).

/** A value as the extension delivered it, before `parse`. */
export interface RawValue {
  text?: string
  bytes?: Uint8Array
  /** The parameter's `Type`, when the answer says it. */
  type?: string
  /** Secrets, SecureStrings and parameters of unknown type: hidden on the context, messages withheld. */
  sensitive: boolean
}

export type ParseMode = 'auto' | 'text' | 'json' | 'list' | 'binary'

/** How one entry turns its raw value into the handler's value. */
export interface Recipe {
  parse: ParseMode
  field?: readonly string[] | undefined
  schema?: StandardSchemaV1 | undefined
}

/** A failure of the answer (`MALFORMED_RESPONSE`) or of the recipe, with a reason that holds no value. */
export class ValueFailure {
  constructor(
    readonly code: 'MALFORMED_RESPONSE' | 'PARSE_ERROR' | 'VALIDATION_ERROR',
    readonly reason: string,
  ) {}
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const malformed = (what: string) => new ValueFailure('MALFORMED_RESPONSE', `the 200 answer ${what}`)

const json = (text: string, failure: () => ValueFailure): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    // The SyntaxError quotes its input, which is the value: dropped, not chained.
    throw failure()
  }
}

const base64 = (text: unknown, what: string): Uint8Array => {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text))
    throw malformed(`has ${what} that is not base64`)
  return new Uint8Array(Buffer.from(text, 'base64'))
}

const secretOutput = (output: unknown, what: string): RawValue => {
  if (!isRecord(output)) throw malformed(`has ${what} that is not an object`)
  if (typeof output.SecretString === 'string') return { text: output.SecretString, sensitive: true }
  if (output.SecretBinary != null)
    return { bytes: base64(output.SecretBinary, 'SecretBinary'), sensitive: true }
  throw malformed(`has ${what} with neither SecretString nor SecretBinary`)
}

/**
 * `/aws/reference/secretsmanager/…` answers carry the secret's own output in `SourceResult`: captures show
 * camelCase keys and binary bytes as a serialized Java ByteBuffer (signed bytes in `hb`, read from
 * `offset` to `limit`). The SDK's PascalCase shape is read too.
 */
const sourceResult = (text: string): RawValue => {
  const output = json(text, () => malformed('has a SourceResult that is not JSON'))
  if (!isRecord(output)) throw malformed('has a SourceResult that is not an object')
  if (typeof output.secretString === 'string') return { text: output.secretString, sensitive: true }
  const buffer = output.secretBinary
  if (!isRecord(buffer) || !Array.isArray(buffer.hb)) return secretOutput(output, 'a SourceResult')
  const signed = buffer.hb
  const offset = buffer.offset ?? 0
  const limit = buffer.limit ?? signed.length
  const isIndex = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0
  if (
    !isIndex(offset) ||
    !isIndex(limit) ||
    offset > limit ||
    limit > signed.length ||
    !signed.every((byte) => Number.isInteger(byte) && byte >= -128 && byte <= 255)
  )
    throw malformed('has a SourceResult whose secretBinary is not a byte buffer')
  return { bytes: Uint8Array.from(signed.slice(offset, limit), (byte) => byte & 0xff), sensitive: true }
}

/** Reads a 200 body: the AWS SDK output as JSON, of which only the value fields are relied on. */
export const readBody = (service: 'parameter' | 'secret', body: Buffer): RawValue => {
  const output = json(body.toString('utf8'), () => malformed('is not JSON'))
  if (service === 'secret') return secretOutput(output, 'a body')
  const parameter = isRecord(output) ? output.Parameter : undefined
  if (!isRecord(parameter)) throw malformed('has no Parameter object')
  const type = typeof parameter.Type === 'string' ? parameter.Type : undefined
  const sensitive = type !== 'String' && type !== 'StringList'
  if (typeof parameter.Value === 'string')
    return type === undefined
      ? { text: parameter.Value, sensitive }
      : { text: parameter.Value, type, sensitive }
  // A binary secret read through /aws/reference/secretsmanager/ has no Value: its bytes are only here.
  if (parameter.Value === null && typeof parameter.SourceResult === 'string')
    return sourceResult(parameter.SourceResult)
  throw malformed('has a Parameter.Value that is not a string')
}

const parsed = (raw: RawValue, mode: ParseMode): unknown => {
  const { text } = raw
  if (text === undefined) {
    if (mode === 'auto' || mode === 'binary') return raw.bytes
    throw new ValueFailure('PARSE_ERROR', `the secret is binary but parse is '${mode}'`)
  }
  if (mode === 'binary') throw new ValueFailure('PARSE_ERROR', "parse is 'binary' but the secret is a string")
  if (mode === 'text') return text
  if (mode === 'list' || (mode === 'auto' && raw.type === 'StringList')) return text.split(',')
  const notJson = () => new ValueFailure('PARSE_ERROR', 'the value is not valid JSON')
  if (mode === 'json') return json(text, notJson)
  // auto: text that starts like a JSON object or array is parsed when it parses, as Middy's ssm does.
  const first = text.trimStart()[0]
  if (first !== '{' && first !== '[') return text
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

const pick = (value: unknown, path: readonly string[]): unknown => {
  let current = value
  for (let i = 0; i < path.length; i++) {
    // Own properties only: `constructor.name` must not reach into prototypes.
    if (!isRecord(current) && !Array.isArray(current)) {
      throw new ValueFailure(
        'PARSE_ERROR',
        `field '${path.join('.')}': '${path.slice(0, i).join('.') || '(the value)'}' is not an object`,
      )
    }
    if (!Object.hasOwn(current, path[i]!))
      throw new ValueFailure(
        'PARSE_ERROR',
        `field '${path.join('.')}': '${path.slice(0, i + 1).join('.')}' is missing`,
      )
    current = (current as Record<string, unknown>)[path[i]!]
  }
  return current
}

const issueText = (issue: StandardSchemaV1.Issue): string => {
  const path = issue.path?.map((part) => String(typeof part === 'object' ? part.key : part)).join('.')
  return `${path || '(root)'}: ${issue.message}`
}

/**
 * Validator messages and paths quote the value in many ways (a prefix, a suffix, a key of a record), so
 * no scrubbing can make them safe for a secret: for sensitive values they are withheld whole, and only
 * their number is given. Plain String and StringList parameters keep them: they are configuration.
 */
const validate = async (schema: StandardSchemaV1, value: unknown, sensitive: boolean) => {
  let result: StandardSchemaV1.Result<unknown>
  try {
    result = await schema['~standard'].validate(value)
  } catch {
    throw new ValueFailure('VALIDATION_ERROR', 'the schema threw while validating the value')
  }
  const { issues } = result
  if (issues === undefined) return (result as StandardSchemaV1.SuccessResult<unknown>).value
  if (sensitive) {
    throw new ValueFailure(
      'VALIDATION_ERROR',
      `the schema rejected the value (${issues.length} issue${issues.length === 1 ? '' : 's'}; messages withheld: the value is secret)`,
    )
  }
  const more = issues.length > 5 ? `; and ${issues.length - 5} more` : ''
  throw new ValueFailure(
    'VALIDATION_ERROR',
    `the schema rejected the value: ${issues.slice(0, 5).map(issueText).join('; ')}${more}`,
  )
}

/** parse → field → schema. Synchronous unless there is a schema (validators may be async). */
export const produce = (raw: RawValue, recipe: Recipe): unknown => {
  let value = parsed(raw, recipe.parse)
  if (recipe.field !== undefined) {
    if (raw.text === undefined || (recipe.parse === 'auto' && typeof value === 'string'))
      throw new ValueFailure('PARSE_ERROR', `field '${recipe.field.join('.')}' needs a JSON value`)
    value = pick(value, recipe.field)
  }
  return recipe.schema === undefined ? value : validate(recipe.schema, value, raw.sensitive)
}
