import type { ProducedValue } from './cache.js'
import type { Fetched } from './client/extension-client.js'
import type { SourceRef } from './client/source-ref.js'
import { describeSource, ExtensionSecretsError } from './errors.js'
import type { ResolvedEntry } from './fetch-data.js'
import { produceValue, RecipeFailure } from './parse.js'
import type { SecretStage } from './sources.js'

/** One key's value as fetched and produced in one invocation, with what the events report. */
export interface KeyFetch {
  produced: ProducedValue
  attempts: number
  elapsedMs: number
  readinessWaitMs: number
  /** `stages` the extension did not serve, with the status it answered. */
  missingStages?: { stage: SecretStage; status: number | undefined }[]
}

/** Sends (or joins, within one invocation) the request for a source. */
export type Request = (ref: SourceRef) => Promise<Fetched>

const stageLabels: Record<SecretStage, string> = { previous: 'AWSPREVIOUS', pending: 'AWSPENDING' }

export const keyLabel = (entry: ResolvedEntry) =>
  `\`${entry.key}\` (${describeSource(entry.ref.service, entry.ref.name)})`

/** The client's error is about a request; the key's error also names the key it was meant for. */
export const keyError = (
  entry: ResolvedEntry,
  error: unknown,
  fetched?: Fetched,
  stage?: SecretStage,
): ExtensionSecretsError => {
  const details = { key: entry.key, source: entry.ref.service, name: entry.ref.name }
  const version = stage === undefined ? '' : ` (${stageLabels[stage]})`
  if (error instanceof ExtensionSecretsError) {
    return new ExtensionSecretsError(error.code, `${entry.key}${version}: ${error.reason}`, {
      ...details,
      attempts: error.attempts,
      elapsedMs: error.elapsedMs,
      status: error.status,
      body: error.body,
      cause: error,
    })
  }
  if (error instanceof RecipeFailure) {
    return new ExtensionSecretsError(error.code, `${keyLabel(entry)}${version}: ${error.message}`, {
      ...details,
      attempts: fetched?.attempts,
      elapsedMs: fetched?.elapsedMs,
    })
  }
  // Not a failure this package knows: keep it as the cause, unread, since it may quote anything.
  return new ExtensionSecretsError('FETCH_FAILED', `${keyLabel(entry)}: unexpected failure`, {
    ...details,
    cause: error,
  })
}

const produced = async (entry: ResolvedEntry, fetched: Fetched, stage?: SecretStage): Promise<unknown> => {
  try {
    return await produceValue(fetched.value, entry)
  } catch (error) {
    throw keyError(entry, error, fetched, stage)
  }
}

/**
 * Through the layer, a version that does not exist gets the generic 400 (the agent: a 4xx of its own).
 * For a non-current stage that is the normal case outside a rotation, not a failure.
 */
const isAbsentVersion = (error: ExtensionSecretsError) =>
  error.code === 'UPSTREAM_ERROR' && error.status !== undefined && error.status < 500 && error.status !== 429

/** Fetches one key's source and produces its value: fetch → parse → field → schema (→ stages). */
export const fetchKey = async (entry: ResolvedEntry, ref: SourceRef, request: Request): Promise<KeyFetch> => {
  const current = request(ref).then(
    async (fetched) => ({ fetched, value: await produced(entry, fetched) }),
    (error: unknown) => {
      throw keyError(entry, error)
    },
  )
  if (entry.stages === undefined) {
    const { fetched, value } = await current
    return {
      produced: { value, sensitive: fetched.value.sensitive },
      attempts: fetched.attempts,
      elapsedMs: fetched.elapsedMs,
      readinessWaitMs: fetched.readinessWaitMs,
    }
  }
  return fetchStages(entry, ref, request, current)
}

const fetchStages = async (
  entry: ResolvedEntry,
  ref: SourceRef,
  request: Request,
  current: Promise<{ fetched: Fetched; value: unknown }>,
): Promise<KeyFetch> => {
  const bypass = ref.service === 'secret' && ref.refreshNow ? { refreshNow: true } : {}
  const others = entry.stages!.map((stage) =>
    // The agent's cache bypass applies to every version; an explicit AWSCURRENT has no equivalent for
    // the other stages, which the layer serves from its cache (see docs/rotation.md).
    request({ service: 'secret', name: ref.name, versionStage: stageLabels[stage], ...bypass }).then(
      async (fetched) => ({ stage, fetched, value: await produced(entry, fetched, stage) }),
      (error: unknown) => {
        const failure = keyError(entry, error, undefined, stage)
        if (isAbsentVersion(failure)) return { stage, missing: failure }
        throw failure
      },
    ),
  )
  // Every part settles before the key does, so no request is left running unobserved.
  const [first, ...rest] = await Promise.allSettled([current, ...others])
  const failed = [first, ...rest].find((result) => result.status === 'rejected')
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
  const { fetched, value: currentValue } = (
    first as PromiseFulfilledResult<{ fetched: Fetched; value: unknown }>
  ).value
  const value: Record<string, unknown> = { current: currentValue }
  const result: KeyFetch = {
    produced: { value, sensitive: true },
    attempts: fetched.attempts,
    elapsedMs: fetched.elapsedMs,
    readinessWaitMs: fetched.readinessWaitMs,
    missingStages: [],
  }
  for (const settled of rest) {
    const part = (settled as PromiseFulfilledResult<Awaited<(typeof others)[number]>>).value
    if ('missing' in part) {
      result.missingStages!.push({ stage: part.stage, status: part.missing.status })
      continue
    }
    value[part.stage] = part.value
    result.attempts += part.fetched.attempts
    result.elapsedMs = Math.max(result.elapsedMs, part.fetched.elapsedMs)
    result.readinessWaitMs = Math.max(result.readinessWaitMs, part.fetched.readinessWaitMs)
  }
  return result
}
