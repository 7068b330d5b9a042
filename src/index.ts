export type { RetryOptions } from './client/retry-policy.js'
export {
  ExtensionSecretsError,
  type ExtensionSecretsErrorCode,
  type ExtensionSecretsErrorDetails,
  type SourceService,
} from './errors.js'
export { type ContextFor, extensionSecrets, type InternalFor } from './middleware.js'
export { type ExtensionSecretsOptions, extensionSecretsValidateOptions } from './options.js'
export {
  type FetchEntry,
  type JsonArray,
  type JsonObject,
  type JsonValue,
  type ParameterEntry,
  type ParameterOptions,
  type ParameterParseMode,
  type ParseMode,
  parameter,
  type SecretEntry,
  type SecretOptions,
  type SecretParseMode,
  secret,
  type Typed,
  type Undeclared,
  type ValueOf,
  type ValuesOf,
} from './sources.js'
export type { StandardSchemaV1 } from './standard-schema.js'
