export type { RetryOptions } from './client/retry-policy.js'
export {
  ExtensionSecretsError,
  type ExtensionSecretsErrorCode,
  type ExtensionSecretsErrorDetails,
  type SourceService,
} from './errors.js'
export type {
  CacheState,
  EventHook,
  ExtensionSecretsEvent,
  FailedEvent,
  FetchedEvent,
  HitEvent,
  InvalidatedEvent,
  StageMissingEvent,
  StaleEvent,
} from './events.js'
export {
  type BypassExtensionCache,
  isTransientError,
  type RefreshOnAnswer,
  type StaleIfErrorOptions,
} from './freshness.js'
export {
  type ContextFor,
  type ExtensionSecretsMiddleware,
  extensionSecrets,
  type InternalFor,
} from './middleware.js'
export { type ExtensionSecretsOptions, extensionSecretsValidateOptions } from './options.js'
export {
  type LoggerLike,
  type MetricsLike,
  metricNames,
  type PowertoolsEventsOptions,
  powertoolsEvents,
} from './powertools.js'
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
  type SecretStage,
  type StagedValue,
  secret,
  type Typed,
  type Undeclared,
  type ValueOf,
  type ValuesOf,
} from './sources.js'
export type { StandardSchemaV1 } from './standard-schema.js'
