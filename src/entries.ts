import type { StandardSchemaV1 } from './standard-schema.js'
import type { ParseMode } from './value.js'

export type { ParseMode } from './value.js'

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }
type JsonContainer = JsonValue[] | { [key: string]: JsonValue }

interface Common {
  /** A dot path into the parsed JSON value, e.g. `db.password`. Needs parse `'auto'` or `'json'`. */
  field?: string
  /** Any Standard Schema validator (zod, valibot, arktype…); its output becomes the value. */
  schema?: StandardSchemaV1
  /**
   * A value that may not exist: when the extension answers that it cannot serve it (a 4xx other than
   * 429), the value is `undefined` and a `missing` event says so, instead of failing the invocation.
   */
  optional?: boolean
}

export interface ParameterOptions extends Common {
  /** A version number (sent as `version`). Not with `label`. */
  version?: number
  /** A label (sent as `label`). Not with `version`. */
  label?: string
  /** Ask for SecureString values in clear (`withDecryption=true`). Default `true`. */
  decrypt?: boolean
  parse?: Exclude<ParseMode, 'binary'>
}

export interface SecretOptions extends Common {
  /** A version id. Not with `versionStage`. */
  versionId?: string
  /** A staging label such as `AWSPREVIOUS`. Not with `versionId`. */
  versionStage?: string
  parse?: Exclude<ParseMode, 'list'>
}

/** A Parameter Store entry of `fetchData`. */
export interface ParameterEntry extends ParameterOptions {
  /** Parameter name, hierarchical path or full ARN. */
  parameter: string
}

/** A Secrets Manager entry of `fetchData`. */
export interface SecretEntry extends SecretOptions {
  /** Secret name or full ARN. */
  secret: string
}

export type FetchEntry = ParameterEntry | SecretEntry

// The declared value type rides on the entry as an optional, never-present property, so plain objects and
// helper results behave the same at run time.

/** The type argument of a helper called without one. Never present at run time. */
export interface Undeclared {
  readonly __undeclared: true
}

/** Carries a declared value type for the type checker. Never present at run time. */
export interface Typed<T> {
  /** In a tuple, so that a declared `T | undefined` keeps its `undefined` when read back. */
  readonly __valueType?: [T]
}

/**
 * Inferred objects keep unknown keys; this turns each into an error that names it: a required key that is
 * the sentence (a message on the unknown key itself would meet a literal value, `1 & '✗ …'`, and reduce
 * the whole object to `never`: "Type 'number' is not assignable to type 'never'").
 */
export type NoExtraKeys<O, Known> = {
  [K in Exclude<keyof O, keyof Known> as `✗ '${K & string}' is not an option here`]: never
}

/**
 * Combinations the run-time checks refuse, refused by the type checker too: each adds a required key that
 * is the sentence, so the error reads `Property '✗ …' is missing` (a message on the option's own key
 * would meet its literal type and reduce the whole options object to `never`).
 */
export type Conflicts<O> = (O extends { version: number; label: string }
  ? { '✗ a parameter takes `version` or `label`, not both': never }
  : unknown) &
  (O extends { versionId: string; versionStage: string }
    ? { '✗ a secret takes `versionId` or `versionStage`, not both': never }
    : unknown) &
  (O extends { field: string; parse: 'text' | 'list' | 'binary' }
    ? { "✗ `field` needs parse 'auto' or 'json'": never }
    : unknown)

type NoOptions = Record<never, never>

/**
 * A type given explicitly hides the options from the type checker (TypeScript infers all type arguments
 * or none): `optional: true` would add an `undefined` it cannot see, so the declared type must hold it.
 */
type OptionsFor<T, Options> = [T] extends [Undeclared]
  ? Options
  : undefined extends T
    ? Options
    : Omit<Options, 'optional'> & {
        optional?:
          | false
          | '✗ with a declared type, `optional: true` needs one that includes undefined: <T | undefined>'
      }

/**
 * A Parameter Store entry: `{ parameter: name, ...options }`. `parameter<T>(name)` declares the value's
 * type; otherwise it follows `schema`, `field` and `parse`.
 */
export function parameter<
  T = Undeclared,
  const O extends ParameterOptions = NoOptions,
  const N extends string = string,
>(
  name: N,
  options?: O & OptionsFor<T, ParameterOptions> & NoExtraKeys<O, ParameterOptions> & Conflicts<O>,
): { parameter: NoInfer<N> } & NoInfer<O> & Typed<T> {
  return { parameter: name, ...options } as { parameter: N } & O & Typed<T>
}

/**
 * A Secrets Manager entry: `{ secret: id, ...options }`. `secret<T>(id)` declares the value's type;
 * otherwise it follows `schema`, `field` and `parse`.
 */
export function secret<T = Undeclared, const O extends SecretOptions = NoOptions>(
  id: string,
  options?: O & OptionsFor<T, SecretOptions> & NoExtraKeys<O, SecretOptions> & Conflicts<O>,
): { secret: string } & NoInfer<O> & Typed<T> {
  return { secret: id, ...options } as { secret: string } & O & Typed<T>
}

type Declared<E> = E extends { readonly __valueType?: [infer T] } ? T : Undeclared

/** The parse modes an entry may use: its literal, or every mode when only known as a wide type. */
type ModesOf<E> = E extends { parse: infer P extends ParseMode }
  ? P
  : E extends { parse?: infer P }
    ? Exclude<P, undefined> | 'auto'
    : 'auto'

/** A binary secret read through `/aws/reference/secretsmanager/` arrives as bytes; a name only known as
 * `string` may be one. */
type MayBeBytes<E> = E extends { secret: string }
  ? true
  : E extends { parameter: infer N extends string }
    ? string extends N
      ? true
      : N extends `/aws/reference/secretsmanager/${string}`
        ? true
        : false
    : true

/** What `auto` can produce: JSON-looking text parsed to an object or array, the rest as it is. */
type AutoOf<E> =
  | string
  | JsonContainer
  | (E extends { secret: string } ? never : string[])
  | (MayBeBytes<E> extends true ? Uint8Array : never)

type ByMode<M, E> = M extends 'text'
  ? string
  : M extends 'list'
    ? string[]
    : M extends 'binary'
      ? Uint8Array
      : M extends 'json'
        ? JsonValue
        : AutoOf<E>

type Derived<E> = E extends { schema: infer S extends StandardSchemaV1 }
  ? StandardSchemaV1.InferOutput<S>
  : 'schema' extends keyof E
    ? unknown
    : E extends { field: string }
      ? JsonValue
      : 'field' extends keyof E
        ? JsonValue | ByMode<ModesOf<E>, E>
        : ByMode<ModesOf<E>, E>

type Present<E> = [Declared<E>] extends [Undeclared]
  ? Derived<E>
  : unknown extends Declared<E>
    ? Derived<E>
    : Declared<E>

/** The type of the value a `fetchData` entry produces; `undefined` is possible only with `optional`. */
export type ValueOf<E> = E extends { optional: true }
  ? Present<E> | undefined
  : E extends { optional: false } | { optional?: undefined }
    ? Present<E>
    : 'optional' extends keyof E
      ? Present<E> | undefined
      : Present<E>

/** The values a `fetchData` object produces, by key. */
export type ValuesOf<F> = { -readonly [K in keyof F]: ValueOf<F[K]> }

// What the run-time checks refuse in a `fetchData` object, refused by the type checker too, in a sentence.
/** Words of a space- or newline-separated string literal, as a union. */
type Words<S extends string> = S extends `${infer Line}\n${infer Rest}`
  ? Words<Line> | Words<Rest>
  : S extends `${infer W} ${infer Rest}`
    ? W | Words<Rest>
    : S

/** Members of the Lambda context and of Middy 7's durable context: a `fetchData` key may not replace them. */
const contextNames = `callbackWaitsForEmptyEventLoop functionName functionVersion invokedFunctionArn
memoryLimitInMB awsRequestId logGroupName logStreamName identity clientContext tenantId
getRemainingTimeInMillis done fail succeed lambdaContext executionContext durableExecutionArn step wait
waitForCallback waitForCondition createCallback invoke parallel map runInChildContext promise logger
configureLogger` as const
export const contextMembers = contextNames.split(/\s+/)

/** Members of the Lambda context, of Middy 7's durable context and of every object. */
type ReservedKey =
  | keyof typeof Object.prototype
  | Words<'__proto__ __defineGetter__ __defineSetter__ __lookupGetter__ __lookupSetter__ prototype'>
  | Words<typeof contextNames>

/** ASCII characters no JavaScript identifier holds (the run-time check also refuses the rest). */
type NotInIdentifier = Chars<' -./:@#!?+*=,;()[]{}<>"\'`\\|&%^~\t\n'>
type Chars<S extends string> = S extends `${infer C}${infer Rest}` ? C | Chars<Rest> : never

type KeyProblem<K> = K extends number
  ? `✗ ${K} is not a JavaScript identifier: keys are used as they are on the context`
  : K extends ReservedKey
    ? `✗ '${K & string}' would replace a member of the Lambda context: choose another key`
    : K extends '' | `${Chars<'0123456789'>}${string}` | `${string}${NotInIdentifier}${string}`
      ? `✗ '${K & string}' is not a JavaScript identifier: keys are used as they are on the context`
      : undefined

/** A parameter()/secret() result carries its declared type under this key. */
type Carried = { readonly __valueType?: unknown }

/** An entry written as a plain object gets the checks parameter() and secret() make. */
type EntryChecks<E> = E extends { parameter: string }
  ? NoExtraKeys<E, ParameterEntry & Carried> & Conflicts<E>
  : E extends { secret: string }
    ? NoExtraKeys<E, SecretEntry & Carried> & Conflicts<E>
    : unknown

/** `fetchData` as given, with an error that names each refused key or option. */
export type CheckedFetchData<F> = {
  [K in keyof F]: KeyProblem<K> extends undefined ? F[K] & EntryChecks<F[K]> : KeyProblem<K>
}
