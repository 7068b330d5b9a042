import { fail, isRecord, join, rejectUnknownKeys } from './check.js'
import { secretArnSuffix, secretVersionId, versionDate } from './ids.js'
import { secretReferencePrefix } from './protocol.js'

export type ParameterType = 'String' | 'StringList' | 'SecureString'

/** A parameter: a string is a `String` at version 1. */
export type StoredParameter = string | ParameterDefinition

export interface ParameterDefinition {
  /** Default `String`. */
  type?: ParameterType
  /** The only version (1). A `StringList` may list its items; they are joined with `,`. */
  value?: string | string[]
  /** Every version, oldest first: version n is `versions[n - 1]`, the last one is current. */
  versions?: (string | string[])[]
  /** Label to version number. */
  labels?: Record<string, number>
  /** Default `text`. */
  dataType?: string
}

/** A secret: a string is a `SecretString` with the stage `AWSCURRENT`. */
export type StoredSecret = string | SecretContent | SecretVersions

/** Exactly one of `string`, `json` (stored as `JSON.stringify(json)`) or `binary` (base64). */
export interface SecretContent {
  string?: string
  json?: unknown
  binary?: string
  /** Default: derived from the secret's name and the version's position. */
  versionId?: string
}

export interface SecretVersion extends SecretContent {
  /** Staging labels; exactly one version of a secret has `AWSCURRENT`. */
  stages?: string[]
}

export interface SecretVersions {
  versions: SecretVersion[]
}

/** What the emulator serves. Also the format of a values JSON file. */
export interface EmulatorValues {
  /** Ignored: lets a values file name docs/emulator-values.schema.json for editors. */
  $schema?: string
  parameters?: Record<string, StoredParameter>
  secrets?: Record<string, StoredSecret>
  /** Names that exist but the function may not read: answered like unknown names. */
  denied?: string[]
}

export interface CompiledParameter {
  name: string
  type: ParameterType
  dataType: string
  /** Version n at index n - 1. */
  versions: { value: string; lastModified: Date }[]
  labels: ReadonlyMap<string, number>
}

export interface CompiledSecretVersion {
  versionId: string
  stages: string[]
  secretString: string | null
  secretBinary: Buffer | null
  created: Date
}

export interface CompiledSecret {
  name: string
  arnSuffix: string
  versions: CompiledSecretVersion[]
}

export interface ValueStore {
  parameters: ReadonlyMap<string, CompiledParameter>
  secrets: ReadonlyMap<string, CompiledSecret>
  denied: ReadonlySet<string>
}

const parameterTypes: readonly string[] = ['String', 'StringList', 'SecureString']
// Parameter Store refuses labels that could be read as a version number.
const labelPattern = /^[A-Za-z_.-][A-Za-z0-9_.-]*$/
const currentStage = 'AWSCURRENT'

/**
 * Checks values (for instance read from a JSON file) and returns them typed.
 * @throws TypeError naming the path of the first problem, e.g. `parameters["/a"].type: expected ...`
 */
export function validateValues(input: unknown): EmulatorValues {
  compileValues(input)
  return input as EmulatorValues
}

/** Validates and normalizes values; `root` prefixes every path in error messages. */
export function compileValues(input: unknown, root = ''): ValueStore {
  if (!isRecord(input)) fail(root || 'values', 'expected an object')
  // `$schema` lets editors check a values file against docs/emulator-values.schema.json.
  rejectUnknownKeys(input, ['$schema', 'parameters', 'secrets', 'denied'], root)
  const parameters = new Map<string, CompiledParameter>()
  const secrets = new Map<string, CompiledSecret>()
  for (const [name, entry] of entriesOf(input.parameters, join(root, 'parameters'))) {
    parameters.set(
      name,
      compileParameter(name, entry, `${join(root, 'parameters')}[${JSON.stringify(name)}]`),
    )
  }
  for (const [name, entry] of entriesOf(input.secrets, join(root, 'secrets'))) {
    secrets.set(name, compileSecret(name, entry, `${join(root, 'secrets')}[${JSON.stringify(name)}]`))
  }
  return { parameters, secrets, denied: new Set(compileDenied(input.denied, join(root, 'denied'))) }
}

function compileParameter(name: string, entry: unknown, path: string): CompiledParameter {
  if (name.startsWith(secretReferencePrefix)) {
    fail(path, `names under ${secretReferencePrefix} read secrets: declare it under secrets`)
  }
  if (typeof entry === 'string') {
    return {
      name,
      type: 'String',
      dataType: 'text',
      versions: [parameterVersion(name, 0, entry)],
      labels: new Map(),
    }
  }
  if (!isRecord(entry)) fail(path, 'expected a string or an object')
  rejectUnknownKeys(entry, ['type', 'value', 'versions', 'labels', 'dataType'], path)
  const type = entry.type ?? 'String'
  if (typeof type !== 'string' || !parameterTypes.includes(type)) {
    fail(`${path}.type`, 'expected String, StringList or SecureString')
  }
  const dataType = entry.dataType ?? 'text'
  if (typeof dataType !== 'string' || dataType === '') fail(`${path}.dataType`, 'expected a non-empty string')
  if ((entry.value === undefined) === (entry.versions === undefined)) {
    fail(path, 'expected exactly one of value or versions')
  }
  let raw: { value: unknown; path: string }[]
  if (entry.versions === undefined) {
    raw = [{ value: entry.value, path: `${path}.value` }]
  } else {
    if (!Array.isArray(entry.versions) || entry.versions.length === 0) {
      fail(`${path}.versions`, 'expected a non-empty array')
    }
    raw = entry.versions.map((value: unknown, index) => ({ value, path: `${path}.versions[${index}]` }))
  }
  const versions = raw.map((version, index) =>
    parameterVersion(name, index, parameterValue(version.value, type as ParameterType, version.path)),
  )
  const labels = new Map<string, number>()
  for (const [label, version] of entriesOf(entry.labels, `${path}.labels`)) {
    const labelPath = `${path}.labels[${JSON.stringify(label)}]`
    if (!labelPattern.test(label))
      fail(labelPath, 'expected a label of letters, digits, ".", "-" or "_" not starting with a digit')
    if (
      typeof version !== 'number' ||
      !Number.isInteger(version) ||
      version < 1 ||
      version > versions.length
    ) {
      fail(labelPath, `expected a version number from 1 to ${versions.length}`)
    }
    labels.set(label, version)
  }
  return { name, type: type as ParameterType, dataType, versions, labels }
}

function parameterVersion(name: string, index: number, value: string): CompiledParameter['versions'][number] {
  return { value, lastModified: versionDate('parameter', name, index) }
}

function parameterValue(value: unknown, type: ParameterType, path: string): string {
  if (typeof value === 'string') return value
  if (type !== 'StringList') fail(path, 'expected a string')
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    fail(path, 'expected a string or an array of strings')
  }
  // An item with a comma would silently become two items once joined.
  const withComma = value.findIndex((item: string) => item.includes(','))
  if (withComma !== -1) fail(`${path}[${withComma}]`, 'expected an item without ","')
  return value.join(',')
}

function compileSecret(name: string, entry: unknown, path: string): CompiledSecret {
  const arnSuffix = secretArnSuffix(name)
  if (typeof entry === 'string') {
    return {
      name,
      arnSuffix,
      versions: [secretVersion(name, 0, { string: entry, stages: [currentStage] }, path)],
    }
  }
  if (!isRecord(entry)) fail(path, 'expected a string or an object')
  if (entry.versions === undefined) {
    rejectUnknownKeys(entry, ['string', 'json', 'binary', 'versionId'], path)
    return { name, arnSuffix, versions: [secretVersion(name, 0, { ...entry, stages: [currentStage] }, path)] }
  }
  rejectUnknownKeys(entry, ['versions'], path)
  if (!Array.isArray(entry.versions) || entry.versions.length === 0) {
    fail(`${path}.versions`, 'expected a non-empty array')
  }
  const versions: CompiledSecretVersion[] = []
  const stageOwners = new Map<string, number>()
  entry.versions.forEach((version: unknown, index) => {
    const versionPath = `${path}.versions[${index}]`
    if (!isRecord(version)) fail(versionPath, 'expected an object')
    rejectUnknownKeys(version, ['stages', 'string', 'json', 'binary', 'versionId'], versionPath)
    const stored = secretVersion(name, index, version, versionPath)
    for (const stage of stored.stages) {
      const owner = stageOwners.get(stage)
      if (owner !== undefined)
        fail(`${versionPath}.stages`, `stage "${stage}" is already on versions[${owner}]`)
      stageOwners.set(stage, index)
    }
    const sameId = versions.findIndex((other) => other.versionId === stored.versionId)
    if (sameId !== -1)
      fail(`${versionPath}.versionId`, `"${stored.versionId}" is already the id of versions[${sameId}]`)
    versions.push(stored)
  })
  if (!stageOwners.has(currentStage))
    fail(`${path}.versions`, `expected one version with the stage ${currentStage}`)
  return { name, arnSuffix, versions }
}

function secretVersion(
  name: string,
  index: number,
  version: Record<string, unknown>,
  path: string,
): CompiledSecretVersion {
  const given = (['string', 'json', 'binary'] as const).filter((key) => version[key] !== undefined)
  if (given.length !== 1) fail(path, 'expected exactly one of string, json or binary')
  let secretString: string | null = null
  let secretBinary: Buffer | null = null
  if (version.string !== undefined) {
    if (typeof version.string !== 'string') fail(`${path}.string`, 'expected a string')
    secretString = version.string
  } else if (version.json !== undefined) {
    secretString = stringifyJson(version.json, `${path}.json`)
  } else {
    secretBinary = decodeBase64(version.binary, `${path}.binary`)
  }
  const versionId = version.versionId ?? secretVersionId(name, index)
  if (typeof versionId !== 'string' || versionId === '')
    fail(`${path}.versionId`, 'expected a non-empty string')
  const stages = version.stages ?? []
  if (!Array.isArray(stages) || !stages.every((stage) => typeof stage === 'string' && stage !== '')) {
    fail(`${path}.stages`, 'expected an array of non-empty strings')
  }
  if (new Set(stages).size !== stages.length) fail(`${path}.stages`, 'expected each stage once')
  return {
    versionId,
    stages: [...stages],
    secretString,
    secretBinary,
    created: versionDate('secret', name, index),
  }
}

function stringifyJson(value: unknown, path: string): string {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch {
    text = undefined
  }
  if (typeof text !== 'string') fail(path, 'expected a value JSON can represent')
  return text
}

function decodeBase64(value: unknown, path: string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'base64') : undefined
  // Node decodes base64 leniently; a round trip tells canonical base64 from anything else.
  if (bytes === undefined || bytes.toString('base64') !== value) fail(path, 'expected a base64 string')
  return bytes
}

function compileDenied(input: unknown, path: string): string[] {
  if (input === undefined) return []
  if (!Array.isArray(input)) fail(path, 'expected an array of names')
  input.forEach((name: unknown, index) => {
    if (typeof name !== 'string' || name === '') fail(`${path}[${index}]`, 'expected a non-empty string')
  })
  return input
}

function entriesOf(input: unknown, path: string): [string, unknown][] {
  if (input === undefined) return []
  if (!isRecord(input)) fail(path, 'expected an object')
  for (const name of Object.keys(input)) {
    if (name === '') fail(`${path}[""]`, 'expected a non-empty name')
  }
  return Object.entries(input)
}
