import type { RawValue } from './client/answers.js'
import type { ParseMode } from './sources.js'
import type { StandardSchemaV1 } from './standard-schema.js'

/** How one `fetchData` entry turns a raw value into the value the handler sees. */
export interface ValueRecipe {
  parse: ParseMode
  /** Path segments of `field`, already split. */
  field?: readonly string[]
  schema?: StandardSchemaV1
}

/**
 * A failure to produce the value. `message` never quotes the value: JSON.parse errors and many validator
 * messages do, so they are never passed through as they are.
 */
export class RecipeFailure extends Error {
  override readonly name = 'RecipeFailure'
  constructor(
    readonly code: 'PARSE_ERROR' | 'VALIDATION_ERROR',
    message: string,
  ) {
    super(message)
  }
}

const startsLikeJson = (text: string): boolean => {
  const first = text.trimStart()[0]
  return first === '{' || first === '['
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    throw new RecipeFailure('PARSE_ERROR', 'the value is not valid JSON')
  }
}

const parsed = (raw: RawValue, mode: ParseMode): unknown => {
  if (raw.kind === 'binary') {
    if (mode === 'auto' || mode === 'binary') return raw.bytes
    throw new RecipeFailure(
      'PARSE_ERROR',
      `the secret is binary (SecretBinary) but parse is '${mode}'; use 'binary' or 'auto'`,
    )
  }
  switch (mode) {
    case 'binary':
      throw new RecipeFailure('PARSE_ERROR', "parse is 'binary' but the secret is a string (SecretString)")
    case 'text':
      return raw.text
    case 'list':
      return raw.text.split(',')
    case 'json':
      return parseJson(raw.text)
    case 'auto':
      // Follows Middy's parameter middlewares: StringList to array, JSON-looking text parsed when it parses.
      if (raw.parameterType === 'StringList') return raw.text.split(',')
      if (startsLikeJson(raw.text)) {
        try {
          return JSON.parse(raw.text)
        } catch {
          return raw.text
        }
      }
      return raw.text
  }
}

const pick = (value: unknown, path: readonly string[]): unknown => {
  let current = value
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!
    // Own properties only: a path such as `constructor.name` must not reach into prototypes.
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) {
      const at = path.slice(0, i + 1).join('.')
      const reason =
        typeof current !== 'object' || current === null ? 'the value there is not an object' : 'it is missing'
      throw new RecipeFailure('PARSE_ERROR', `field '${path.join('.')}' not found: '${at}' ${reason}`)
    }
    current = (current as Record<string, unknown>)[segment]
  }
  return current
}

/**
 * Validator messages and issue paths may quote the value (some print it with JSON.stringify, record
 * schemas name its keys), so every string and number of the value, and every key, is scrubbed from
 * them, in plain and JSON-escaped forms. A value holding a string or number of one or two characters
 * cannot be scrubbed without garbling every message, so then the messages are withheld and only the
 * paths are kept. Booleans and null are not treated as secret.
 */
const scrubber = (input: unknown, raw: RawValue) => {
  const secrets = new Set<string>()
  let tooShort = false
  const add = (text: string, isKey: boolean) => {
    if (text.length < 3) {
      if (!isKey && text.length > 0) tooShort = true
      return
    }
    secrets.add(text)
    secrets.add(JSON.stringify(text).slice(1, -1))
  }
  if (raw.kind === 'text') add(raw.text, false)
  const collect = (value: unknown, depth: number) => {
    if (typeof value === 'string') add(value, false)
    else if (typeof value === 'number' || typeof value === 'bigint') add(String(value), false)
    else if (value !== null && typeof value === 'object' && depth < 32 && !(value instanceof Uint8Array)) {
      for (const [key, item] of Object.entries(value)) {
        if (!Array.isArray(value)) add(key, true)
        collect(item, depth + 1)
      }
    }
  }
  collect(input, 0)
  // Longest first, so a value that contains another is replaced whole.
  const list = [...secrets].sort((a, b) => b.length - a.length)
  const scrub = (text: string) => {
    let out = text
    for (const secretText of list) out = out.split(secretText).join('[redacted]')
    return out
  }
  return { scrub, withholdMessages: tooShort }
}

const issuePath = (issue: StandardSchemaV1.Issue): string =>
  issue.path && issue.path.length > 0
    ? issue.path.map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.')
    : '(root)'

const validate = async (schema: StandardSchemaV1, value: unknown, raw: RawValue): Promise<unknown> => {
  let result: StandardSchemaV1.Result<unknown>
  try {
    result = await schema['~standard'].validate(value)
  } catch {
    throw new RecipeFailure('VALIDATION_ERROR', 'the schema threw while validating the value')
  }
  if (result.issues === undefined) return result.value
  const { scrub, withholdMessages } = scrubber(value, raw)
  const message = (issue: StandardSchemaV1.Issue) =>
    withholdMessages ? '(message withheld: the value is too short to redact)' : scrub(String(issue.message))
  const issues = result.issues
    .slice(0, 10)
    .map((issue) => `${scrub(issuePath(issue))}: ${message(issue)}`)
    .join('; ')
  const more = result.issues.length > 10 ? ` (and ${result.issues.length - 10} more)` : ''
  throw new RecipeFailure('VALIDATION_ERROR', `the schema rejected the value: ${issues}${more}`)
}

/** fetch → parse → field → schema. Synchronous unless a schema is given (validators may be async). */
export const produceValue = (raw: RawValue, recipe: ValueRecipe): unknown => {
  let value = parsed(raw, recipe.parse)
  if (recipe.field !== undefined) {
    if (raw.kind === 'binary') {
      throw new RecipeFailure(
        'PARSE_ERROR',
        `field '${recipe.field.join('.')}' needs a JSON value, and the secret is binary`,
      )
    }
    if (recipe.parse === 'auto' && typeof value === 'string') {
      throw new RecipeFailure(
        'PARSE_ERROR',
        `field '${recipe.field.join('.')}' needs a JSON value, and the value is not JSON`,
      )
    }
    value = pick(value, recipe.field)
  }
  return recipe.schema === undefined ? value : validate(recipe.schema, value, raw)
}
