export type { FaultAction, FaultMatch, FaultRule } from './faults.js'
export type { EmulatorOptions } from './options.js'
export { notReadyBody, upstreamErrorBody } from './protocol.js'
export type { Emulator, RecordedRequest, RequestOutcome } from './server.js'
export { startEmulator } from './server.js'
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
