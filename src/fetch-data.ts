import {
  checkBoolean,
  checkInteger,
  checkKnownKeys,
  checkSchema,
  checkText,
  describe,
  fail,
  isPlainObject,
} from './checks.js'
import { requestPath, type SourceRef } from './client/source-ref.js'
import type { ValueRecipe } from './parse.js'
import type { ParseMode, SecretStage } from './sources.js'
import type { StandardSchemaV1 } from './standard-schema.js'

/** One `fetchData` entry after validation. */
export interface ResolvedEntry extends ValueRecipe {
  key: string
  ref: SourceRef
  /** Equal for entries that make the same request, which is then sent once per invocation. */
  sourceId: string
  /** Equal only for entries that produce the same value: the key, the source and the recipe. */
  cacheId: string
  /** `stages`: the non-current versions fetched beside the current one. */
  stages?: SecretStage[]
}

const parameterKeys = ['parameter', 'version', 'label', 'decrypt', 'parse', 'field', 'schema']
const secretKeys = ['secret', 'versionId', 'versionStage', 'stages', 'parse', 'field', 'schema']
const stageNames: readonly SecretStage[] = ['previous', 'pending']
const parameterModes: ParseMode[] = ['auto', 'text', 'json', 'list']
const secretModes: ParseMode[] = ['auto', 'text', 'json', 'binary']

// Keys land on the Lambda context as they are, so none may replace what Lambda or Middy put there, or
// what every object inherits.
const reservedKeys = new Set([
  '__proto__',
  'constructor',
  'prototype',
  ...Object.getOwnPropertyNames(Object.prototype),
  'callbackWaitsForEmptyEventLoop',
  'functionName',
  'functionVersion',
  'invokedFunctionArn',
  'memoryLimitInMB',
  'awsRequestId',
  'logGroupName',
  'logStreamName',
  'identity',
  'clientContext',
  'tenantId',
  'getRemainingTimeInMillis',
  'done',
  'fail',
  'succeed',
  'lambdaContext',
  'executionContext',
  'durableExecutionArn',
  // Members of Middy 7's durable-mode context (the durable execution SDK's DurableContext).
  'step',
  'wait',
  'waitForCallback',
  'waitForCondition',
  'createCallback',
  'invoke',
  'parallel',
  'map',
  'runInChildContext',
  'promise',
  'logger',
  'configureLogger',
])

const identifierPattern = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*$/u
// Schemas cannot be serialized, so each schema object gets a number: two instances with the same
// sources but different validators never share cached values.
const schemaIds = new WeakMap<object, number>()
let lastSchemaId = 0
const schemaId = (schema: StandardSchemaV1): number => {
  let id = schemaIds.get(schema)
  if (id === undefined) {
    id = ++lastSchemaId
    schemaIds.set(schema, id)
  }
  return id
}

const checkStages = (value: unknown, path: string): SecretStage[] => {
  if (!Array.isArray(value) || value.length === 0)
    fail(path, `must be a non-empty array of 'previous' and/or 'pending', got ${describe(value)}`)
  const stages = value as unknown[]
  for (const [index, stage] of stages.entries()) {
    if (!stageNames.includes(stage as SecretStage))
      fail(`${path}[${index}]`, `must be 'previous' or 'pending', got ${describe(stage)}`)
    if (stages.indexOf(stage) !== index) fail(`${path}[${index}]`, `repeats '${stage}'`)
  }
  // A fixed order, so that ['pending', 'previous'] and ['previous', 'pending'] share cached values.
  return stageNames.filter((stage) => stages.includes(stage))
}

/** Validates one `fetchData` entry and its key. */
export const resolveEntry = (key: string, entry: unknown): ResolvedEntry => {
  const path = `fetchData.${key}`
  if (!identifierPattern.test(key)) {
    fail(path, 'is not a valid JavaScript identifier; keys are used as they are on the context, so rename it')
  }
  if (reservedKeys.has(key))
    fail(
      path,
      "would replace a member of the Lambda context (or Middy 7's durable context) or of every object; rename it",
    )
  if (!isPlainObject(entry)) fail(path, 'must be an object made by parameter(...) or secret(...)')
  const item = entry as Record<string, unknown>
  const isParameter = Object.hasOwn(item, 'parameter')
  const isSecret = Object.hasOwn(item, 'secret')
  if (isParameter === isSecret) fail(path, 'must have exactly one of `parameter` and `secret`')
  checkKnownKeys(item, isParameter ? parameterKeys : secretKeys, path)

  const parse = (item.parse === undefined ? 'auto' : item.parse) as ParseMode
  const modes = isParameter ? parameterModes : secretModes
  if (!modes.includes(parse)) {
    fail(
      `${path}.parse`,
      `must be one of ${modes.map((mode) => `'${mode}'`).join(', ')} for a ${isParameter ? 'parameter' : 'secret'}, got ${describe(item.parse)}`,
    )
  }
  let field: string[] | undefined
  if (item.field !== undefined) {
    const text = checkText(item.field, `${path}.field`)
    field = text.split('.')
    if (field.some((segment) => segment.length === 0))
      fail(`${path}.field`, 'must be a dot path with no empty segment, like `db.password`')
    if (parse !== 'auto' && parse !== 'json')
      fail(`${path}.field`, `needs parse 'json' or 'auto', not '${parse}'`)
  }
  const schema = item.schema === undefined ? undefined : checkSchema(item.schema, `${path}.schema`)

  let ref: SourceRef
  let stages: SecretStage[] | undefined
  if (isParameter) {
    const name = checkText(item.parameter, `${path}.parameter`)
    if (item.version !== undefined && item.label !== undefined)
      fail(path, 'may have `version` or `label`, not both')
    ref = {
      service: 'parameter',
      name,
      decrypt: item.decrypt === undefined ? true : checkBoolean(item.decrypt, `${path}.decrypt`),
    }
    if (item.version !== undefined) ref.version = checkInteger(item.version, `${path}.version`, 1)
    if (item.label !== undefined) ref.label = checkText(item.label, `${path}.label`)
  } else {
    const name = checkText(item.secret, `${path}.secret`)
    if (item.versionId !== undefined && item.versionStage !== undefined)
      fail(path, 'may have `versionId` or `versionStage`, not both')
    ref = { service: 'secret', name }
    if (item.versionId !== undefined) ref.versionId = checkText(item.versionId, `${path}.versionId`)
    if (item.versionStage !== undefined)
      ref.versionStage = checkText(item.versionStage, `${path}.versionStage`)
    if (item.stages !== undefined) {
      if (item.versionId !== undefined || item.versionStage !== undefined)
        fail(path, 'may have `stages` or a `versionId` / `versionStage`, not both')
      stages = checkStages(item.stages, `${path}.stages`)
    }
  }
  const sourceId = requestPath(ref)
  const cacheId = JSON.stringify([
    key,
    sourceId,
    parse,
    field ?? null,
    schema === undefined ? null : schemaId(schema),
    stages ?? null,
  ])
  const resolved: ResolvedEntry = { key, ref, sourceId, cacheId, parse }
  if (field !== undefined) resolved.field = field
  if (schema !== undefined) resolved.schema = schema
  if (stages !== undefined) resolved.stages = stages
  return resolved
}
