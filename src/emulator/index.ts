export type { AccountOptions, EmulatedAccount } from './account.js'
export { createAccount } from './account.js'
export type { FaultAction, FaultMatch, FaultRule } from './faults.js'
export type { UnconfirmedLayerBehaviour } from './layer.js'
export { logPrefix } from './log.js'
export type { EmulatorOptions } from './options.js'
export { agentTokenBody, layerTokenBody, notReadyBody, upstreamErrorBody } from './protocol.js'
export type { Diagnosis, RecordedRequest, RequestCounts, RequestOutcome } from './records.js'
export type { Emulator } from './server.js'
export { startEmulator } from './server.js'
export type { ExtensionSettings, Flavour, LogLevel } from './settings.js'
export type { UpstreamModel } from './upstream.js'
export type {
  EmulatorValues,
  ParameterDefinition,
  ParameterType,
  SecretContent,
  SecretVersion,
  SecretVersions,
  StoredParameter,
  StoredSecret,
} from './values.js'
export { validateValues } from './values.js'
