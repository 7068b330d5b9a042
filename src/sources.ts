import type { StandardSchemaV1 } from './standard-schema.js'

/** How the fetched text or bytes become the value. See the README's "Parsing". */
export type ParseMode = 'auto' | 'text' | 'json' | 'list' | 'binary'
export type ParameterParseMode = Exclude<ParseMode, 'binary'>
export type SecretParseMode = Exclude<ParseMode, 'list'>

export type JsonValue = string | number | boolean | null | JsonArray | JsonObject
export type JsonArray = JsonValue[]
export type JsonObject = { [key: string]: JsonValue }

export interface ParameterOptions {
  /** A version number of the parameter (sent as `version`). Not with `label`. */
  version?: number
  /** A label of the parameter (sent as `label`). Not with `version`. */
  label?: string
  /** Ask for SecureString values in clear (`withDecryption=true`). Default `true`. */
  decrypt?: boolean
  parse?: ParameterParseMode
  /** A dot path into the parsed JSON value, e.g. `db.password`. */
  field?: string
  /** Any Standard Schema validator (zod, valibot, arktype...); its output becomes the value. */
  schema?: StandardSchemaV1
}

/** A secret's non-current staging labels: `AWSPREVIOUS` and `AWSPENDING`. */
export type SecretStage = 'previous' | 'pending'

export interface SecretOptions {
  /**
   * Also fetch these versions: the value becomes `{ current, previous?, pending? }`, so a function can
   * accept either credential during a rotation. A listed version that does not exist is left out.
   * Not with `versionId` / `versionStage`.
   */
  stages?: readonly SecretStage[]
  /** A version id of the secret. Not with `versionStage`. */
  versionId?: string
  /** A staging label such as `AWSPREVIOUS`. Not with `versionId`. */
  versionStage?: string
  parse?: SecretParseMode
  /** A dot path into the parsed JSON value, e.g. `password`. */
  field?: string
  /** Any Standard Schema validator (zod, valibot, arktype...); its output becomes the value. */
  schema?: StandardSchemaV1
}

export interface ParameterEntry extends ParameterOptions {
  /** Parameter name, hierarchical path or full ARN. */
  parameter: string
}

export interface SecretEntry extends SecretOptions {
  /** Secret name or full ARN. */
  secret: string
}

export type FetchEntry = ParameterEntry | SecretEntry

// The declared value type rides on the entry as an optional, never-present property: the helpers only
// carry it for the type checker, so plain objects and helper results behave the same at run time. Both
// types are exported so that declaration files of users' handlers can name them.

/** The type argument of a helper called without one. Never present at run time. */
export interface Undeclared {
  readonly __undeclared: true
}

/** Carries a declared value type for the type checker. Never present at run time. */
export interface Typed<T> {
  readonly __valueType?: T
}

/** Inferred options keep unknown keys; this turns them into errors like an annotated literal would. */
export type NoExtraKeys<O, Known> = { [K in Exclude<keyof O, keyof Known>]: never }

/** The options of a helper called without any. */
type NoOptions = Record<never, never>

/**
 * A Parameter Store entry for `fetchData`: `{ parameter: name, ...options }`.
 * `parameter<T>(name)` declares the value's type; otherwise it follows `schema`, `field` and `parse`.
 */
export function parameter<
  T = Undeclared,
  const O extends ParameterOptions = NoOptions,
  const N extends string = string,
>(
  name: N,
  options?: O & ParameterOptions & NoExtraKeys<O, ParameterOptions>,
): { parameter: NoInfer<N> } & NoInfer<O> & Typed<T> {
  return { parameter: name, ...options } as { parameter: N } & O & Typed<T>
}

/**
 * `secret<T>(id, options)` cannot infer its options (TypeScript infers all type arguments or none), so
 * `stages` there would be lost from the type while changing the value's shape: it is a type error. Type
 * a staged secret through `schema`, whose output applies to each version.
 */
type StagesOnlyInferred<O> = 'stages' extends keyof O
  ? SecretOptions
  : Omit<SecretOptions, 'stages'> & { stages?: undefined }

/**
 * A Secrets Manager entry for `fetchData`: `{ secret: id, ...options }`.
 * `secret<T>(id)` declares the value's type; otherwise it follows `schema`, `field` and `parse`.
 */
export function secret<T = Undeclared, const O extends SecretOptions = NoOptions>(
  id: string,
  options?: O & StagesOnlyInferred<O> & NoExtraKeys<O, SecretOptions>,
): { secret: string } & NoInfer<O> & Typed<T> {
  return { secret: id, ...options } as { secret: string } & O & Typed<T>
}

type Declared<E> = E extends { readonly __valueType?: infer T } ? T : Undeclared

/** The parse modes an entry may use: its literal, or every mode when only known as a wide type. */
type ModesOf<E> = E extends { parse: infer P extends ParseMode }
  ? P
  : E extends { parse?: infer P }
    ? Exclude<P, undefined> | 'auto'
    : 'auto'

/** What `auto` can produce: JSON-looking text is parsed to an object or array, the rest stays as it is. */
type AutoOf<E> = E extends { secret: string }
  ? string | Uint8Array | JsonObject | JsonArray
  : string | string[] | JsonObject | JsonArray | (MayReferenceSecret<E> extends true ? Uint8Array : never)

/** A binary secret read through `/aws/reference/secretsmanager/` arrives as bytes; a name only known as
 * `string` may be one. */
type MayReferenceSecret<E> = E extends { parameter: infer N extends string }
  ? string extends N
    ? true
    : N extends `/aws/reference/secretsmanager/${string}`
      ? true
      : false
  : true

/** What each parse mode guarantees (distributes over a union of modes). */
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
    ? // A wide entry type that may carry any validator: nothing more can be said.
      unknown
    : E extends { field: string }
      ? JsonValue
      : 'field' extends keyof E
        ? JsonValue | ByMode<ModesOf<E>, E>
        : ByMode<ModesOf<E>, E>

/** The type of one version's value. */
type VersionValueOf<E> = [Declared<E>] extends [Undeclared]
  ? Derived<E>
  : unknown extends Declared<E>
    ? Derived<E>
    : Declared<E>

/** With `stages`, the current version and the listed others, each absent when the secret has none. */
export type StagedValue<V, S extends SecretStage> = { current: V } & { [K in S]?: V }

/** The type of the value a `fetchData` entry produces. */
export type ValueOf<E> = E extends { stages: readonly (infer S extends SecretStage)[] }
  ? StagedValue<VersionValueOf<E>, S>
  : 'stages' extends keyof E
    ? // Only known as a wide type: staged or not.
      VersionValueOf<E> | StagedValue<VersionValueOf<E>, SecretStage>
    : VersionValueOf<E>

/** The values a `fetchData` object produces, by key. */
export type ValuesOf<F> = { -readonly [K in keyof F]: ValueOf<F[K]> }
