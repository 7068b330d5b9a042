export {
  type FetchEntry,
  type JsonValue,
  type ParameterEntry,
  type ParameterOptions,
  type ParseMode,
  parameter,
  type SecretEntry,
  type SecretOptions,
  secret,
  type ValueOf,
  type ValuesOf,
} from './entries.js'
export { ExtensionSecretsError, type ExtensionSecretsErrorCode, isTransientError } from './errors.js'
export type { EventHook, ExtensionSecretsEvent } from './events.js'
export {
  type ContextFor,
  type ExtensionSecretsMiddleware,
  extensionSecrets,
  extensionSecretsValidateOptions,
  type InternalFor,
} from './middleware.js'
export type { ExtensionSecretsOptions, RetryOptions, StaleIfError } from './options.js'
export type { StandardSchemaV1 } from './standard-schema.js'
