import { throttledAfterMs } from '../../src/extension.js'
import {
  type EnvironmentOutcome,
  random,
  type StormResult,
  type StormScenario,
  startTimes,
} from './scenario.js'

// A discrete-event model of a cold-start storm, for the fleet sizes no machine holds as processes. It
// follows, step for step, what the real processes run (real.ts): the emulator's layer (its cache, its three
// outbound connections per service, three upstream attempts with the SDK's backoff, one account quota
// shared by every environment) and this package's middleware with the given p-retry options. Time is
// simulated: nothing sleeps, so 10 000 environments take seconds. Calibrated against the real processes in
// docs/scaling.md.

/** The middleware's options the model follows (its defaults in docs/options.md). */
export interface ModelledMiddleware {
  /** Per request to the extension. */
  requestTimeout: number
  /** p-retry's budget for one value's attempts (its `retry.maxRetryTime`). */
  maxRetryTime: number
  deadlineMargin: number
  /** `coldStartRetry`'s p-retry options; undefined when off. */
  coldStartRetry?: {
    retries: number
    minTimeout: number
    factor: number
    maxTimeout: number
    randomize: boolean
  }
}

export const middlewareDefaults: ModelledMiddleware = {
  requestTimeout: 5_000,
  maxRetryTime: 10_000,
  deadlineMargin: 250,
}

/** The layer's outbound connections per AWS client (`PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS`). */
const maxConnections = 3
const upstreamAttempts = 3
/**
 * A fresh process's first invocation costs this much beyond the layer's time (its first requests, parsing,
 * Middy): measured on the real processes (real.ts) with an upstream that answers at once, 11 ms for one
 * value and 22 ms for five.
 */
const firstInvocationMs = (values: number) => 8 + 2.75 * values
/** Readiness retries: p-retry with minTimeout 3, maxTimeout 4 (the middleware's defaults). */
const readinessDelay = (next: () => number) => Math.min(4, Math.round((1 + next()) * 3))

class Events {
  #heap: { at: number; seq: number; run: () => void }[] = []
  #seq = 0
  now = 0

  at(at: number, run: () => void) {
    const heap = this.#heap
    heap.push({ at: Math.max(at, this.now), seq: this.#seq++, run })
    let index = heap.length - 1
    while (index > 0) {
      const parent = (index - 1) >> 1
      if (before(heap[parent]!, heap[index]!)) break
      ;[heap[parent], heap[index]] = [heap[index]!, heap[parent]!]
      index = parent
    }
  }

  run() {
    const heap = this.#heap
    while (heap.length > 0) {
      const top = heap[0]!
      const last = heap.pop()!
      if (heap.length > 0) {
        heap[0] = last
        let index = 0
        for (;;) {
          const left = 2 * index + 1
          const right = left + 1
          let smallest = index
          if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left
          if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right
          if (smallest === index) break
          ;[heap[smallest], heap[index]] = [heap[index]!, heap[smallest]!]
          index = smallest
        }
      }
      this.now = top.at
      top.run()
    }
  }
}

const before = (a: { at: number; seq: number }, b: { at: number; seq: number }) =>
  a.at < b.at || (a.at === b.at && a.seq < b.seq)

/** The account's quota: a token bucket holding a second's worth, as the emulator's. */
class Bucket {
  #tokens: number
  #at = 0
  readonly #perMs: number
  readonly #capacity: number
  calls = 0
  throttled = 0

  constructor(perSecond: number) {
    this.#perMs = perSecond / 1000
    this.#capacity = Math.max(1, perSecond)
    this.#tokens = this.#capacity
  }

  take(now: number) {
    this.calls++
    this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#at) * this.#perMs)
    this.#at = now
    if (this.#tokens >= 1) {
      this.#tokens -= 1
      return true
    }
    this.throttled++
    return false
  }
}

type Reply = 200 | 400

export const simulateStorm = (
  scenario: StormScenario,
  middleware: ModelledMiddleware = middlewareDefaults,
): StormResult => {
  const events = new Events()
  const next = random(scenario.seed ^ 0x5bd1e995)
  const bucket = new Bucket(
    scenario.service === 'secret' ? scenario.secretPerSecond : scenario.parameterPerSecond,
  )
  const latency = scenario.upstreamLatencyMs
  const outcomes: EnvironmentOutcome[] = []
  let lastOutcome = 0

  startTimes(scenario).forEach((startMs, environment) => {
    // The environment's layer: its cache (values never expire within a storm) and its connection pool.
    const cached = new Set<number>()
    let connections = 0
    const waiting: (() => void)[] = []
    const release = () => {
      const waiter = waiting.shift()
      if (waiter) waiter()
      else connections--
    }

    /** One GET to the layer: answered from its cache, or upstream with up to three attempts. */
    const layerGet = (key: number, answer: (reply: Reply) => void) => {
      if (cached.has(key)) return answer(200)
      const upstream = () => {
        let attempt = 1
        const tryOnce = () =>
          events.at(events.now + latency, () => {
            if (bucket.take(events.now)) {
              cached.add(key)
              release()
              return answer(200)
            }
            if (attempt === upstreamAttempts) {
              release()
              return answer(400)
            }
            const backoff = next() * scenario.sdkBackoffMs * 2 ** attempt
            attempt++
            events.at(events.now + backoff, tryOnce)
          })
        tryOnce()
      }
      if (connections < maxConnections) {
        connections++
        upstream()
      } else waiting.push(upstream)
    }

    const invokedAt = startMs
    const deadline = invokedAt + scenario.timeoutMs - middleware.deadlineMargin
    const readyAt = invokedAt + scenario.refuseMs + scenario.notReadyMs
    const settled: (number | string | undefined)[] = new Array(scenario.values).fill(undefined)
    let open = scenario.values

    const done = (key: number, result: number | string) => {
      settled[key] = result
      if (--open > 0) return
      const failed = settled.find((value) => typeof value === 'string') as string | undefined
      const last = Math.max(...settled.map((value) => (typeof value === 'number' ? value : 0)))
      outcomes[environment] =
        failed === undefined
          ? { startMs, handlerAfterMs: last - startMs + firstInvocationMs(scenario.values) }
          : { startMs, code: failed }
      lastOutcome = Math.max(lastOutcome, events.now)
    }

    /**
     * getFromExtension: GETs until an answer that is not a timeout, within p-retry's budget and the
     * deadline; a request cut by its timeout leaves the layer's upstream call running.
     */
    const fetchValue = (key: number, then: (reply: Reply | 'TIMEOUT', tookMs: number) => void) => {
      const started = events.now
      const attempt = () => {
        const sent = events.now
        const left = deadline - sent
        if (left < 1) return then('TIMEOUT', 0)
        let over = false
        const timeout = Math.min(middleware.requestTimeout, Math.ceil(left))
        events.at(sent + timeout, () => {
          if (over) return
          over = true
          // p-retry: another attempt after its delay, unless its budget or the deadline is spent.
          const spent = events.now - started
          if (spent >= middleware.maxRetryTime || deadline - events.now < 1) return then('TIMEOUT', 0)
          const delay = Math.min(readinessDelay(next), middleware.maxRetryTime - spent)
          events.at(events.now + delay, attempt)
        })
        layerGet(key, (reply) => {
          if (over) return
          over = true
          then(reply, events.now - sent)
        })
      }
      attempt()
    }

    for (let key = 0; key < scenario.values; key++) {
      // The readiness gate lets every key go once the layer serves; a probe's backoff is a few ms.
      events.at(readyAt + (readyAt > invokedAt ? readinessDelay(next) : 0), () => {
        const cold = middleware.coldStartRetry
        let coldRetries = 0
        let throttled = false
        const settle = (reply: Reply | 'TIMEOUT', tookMs: number) => {
          if (reply === 200) return done(key, events.now)
          // A request the deadline cut after a throttled 400 reports that 400 (askWhileThrottled).
          if (reply === 'TIMEOUT')
            return done(key, throttled && deadline - events.now < 1 ? 'UPSTREAM_ERROR' : 'TIMEOUT')
          // The layer's generic 400 after its SDK retried upstream, for a value this process never had:
          // coldStartRetry's p-retry. A 400 given at once (a missing name) is final.
          throttled = tookMs >= throttledAfterMs
          if (cold === undefined || !throttled || coldRetries >= cold.retries)
            return done(key, 'UPSTREAM_ERROR')
          const random = cold.randomize ? 1 + next() : 1
          const delay = Math.min(
            Math.round(random * cold.minTimeout * cold.factor ** coldRetries),
            cold.maxTimeout,
          )
          coldRetries++
          // The wait ends at the deadline: the value fails with the 400 it has.
          if (events.now + delay >= deadline) return done(key, 'UPSTREAM_ERROR')
          events.at(events.now + delay, () => fetchValue(key, settle))
        }
        fetchValue(key, settle)
      })
    }
  })

  events.run()
  return {
    scenario,
    outcomes,
    upstreamCalls: bucket.calls,
    throttledCalls: bucket.throttled,
    durationMs: Math.round(lastOutcome),
  }
}
