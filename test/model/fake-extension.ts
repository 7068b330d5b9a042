import type fc from 'fast-check'
import type { Answer, Connection } from '../../src/extension.js'

// An in-process stand-in for `getFromExtension` (src/extension.ts), whose answers the fast-check scheduler
// releases in an order it chooses: the model test drives src/load.ts and src/middleware.ts through real
// middy() chains, a thousand schedules in a few seconds, without HTTP. Each answer carries a unique value
// so the model can tell which answer an invocation was served, when it arrived and which request got it.

export type Source = 'P' | 'S'
export type Fault = 'none' | '503' | '400' | 'not-ready' | 'hang'

export interface SentRequest {
  id: number
  path: string
  source: Source
  /** Logical time: the model's operation counter when the request was sent. */
  sentSeq: number
  sentAt: number
  signal: AbortSignal | undefined
  outcome: 'pending' | 'ok' | 'failed' | 'timeout'
  /** The failure was one `staleIfError` may hide (by default: transient). */
  transient?: boolean
  endedAt?: number
}

export interface AnswerRecord {
  request: SentRequest
  arrivedAt: number
}

export const sourceOf = (path: string): Source => (path.startsWith('/secretsmanager/') ? 'S' : 'P')

export const createFakeExtension = (scheduler: fc.Scheduler, nextSeq: () => number) => {
  const faults: Record<Source, Fault> = { P: 'none', S: 'none' }
  const requests: SentRequest[] = []
  const answers = new Map<string, AnswerRecord>()
  let answerCount = 0

  const body = (source: Source, value: string) =>
    Buffer.from(
      JSON.stringify(
        source === 'S'
          ? { Name: 'model/s', SecretString: value, VersionStages: ['AWSCURRENT'] }
          : { Parameter: { Name: '/model/p', Type: 'String', Value: value, Version: 1 } },
      ),
    )

  const get = (_connection: Connection, path: string, signal?: AbortSignal): Promise<Answer> => {
    const source = sourceOf(path)
    const request: SentRequest = {
      id: requests.length,
      path,
      source,
      sentSeq: nextSeq(),
      sentAt: performance.now(),
      signal,
      outcome: 'pending',
    }
    requests.push(request)
    return new Promise<Answer>((resolve) => {
      const end = (outcome: SentRequest['outcome'], answer: Answer) => {
        if (request.outcome !== 'pending') return
        request.outcome = outcome
        request.endedAt = performance.now()
        signal?.removeEventListener('abort', abort)
        resolve(answer)
      }
      // As the real client: the deadline ends the wait with a TIMEOUT failure.
      const abort = () => {
        request.transient = true
        end('timeout', {
          failure: { code: 'TIMEOUT', reason: 'the deadline passed' },
          attempts: 1,
          elapsedMs: 0,
        })
      }
      if (signal?.aborted) {
        abort()
        return
      }
      signal?.addEventListener('abort', abort, { once: true })
      if (faults[source] === 'hang') return
      scheduler.schedule(Promise.resolve(), `answer #${request.id} ${source}`).then(() => {
        const fault = faults[source]
        if (fault === 'hang' || fault === 'none') {
          const value = `${source}#${++answerCount}`
          answers.set(value, { request, arrivedAt: performance.now() })
          end('ok', { body: body(source, value), attempts: 1, elapsedMs: 0 })
        } else {
          const failure =
            fault === 'not-ready'
              ? { code: 'EXTENSION_NOT_READY' as const, reason: 'not ready', status: 400 }
              : { code: 'UPSTREAM_ERROR' as const, reason: fault, status: Number(fault) }
          request.transient = fault !== '400'
          end('failed', { failure, attempts: 1, elapsedMs: 0 })
        }
      })
    })
  }

  return { get, faults, requests, answers }
}
