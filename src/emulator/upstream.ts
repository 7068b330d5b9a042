import type { EmulatedAccount } from './account.js'
import { fail, isRecord, rejectUnknownKeys } from './check.js'
import { throttled, timedOut, type UpstreamFailure } from './lookup.js'
import type { Service } from './protocol.js'
import type { Timers } from './timers.js'

/** How long AWS takes to answer a cache miss. Applied to misses only: hits are answered from memory. */
export interface UpstreamModel {
  /** One GetParameter attempt, in ms. Default 0. */
  parameterLatencyMs?: number
  /** One GetSecretValue attempt, in ms. Default 0. */
  secretLatencyMs?: number
  /**
   * The SDK's backoff after a throttled attempt: attempt n waits a random time up to this × 2^n ms, as the
   * AWS SDK for Go v2's standard retryer does with 1000. Default 1000.
   */
  retryBackoffMs?: number
}

export type ResolvedUpstream = Required<UpstreamModel>

// The AWS SDKs' standard retry mode: three attempts in all.
const attempts = 3

export function resolveUpstream(input: unknown): ResolvedUpstream {
  const resolved = { parameterLatencyMs: 0, secretLatencyMs: 0, retryBackoffMs: 1_000 }
  if (input === undefined) return resolved
  if (!isRecord(input)) fail('upstream', 'expected an object')
  rejectUnknownKeys(input, Object.keys(resolved), 'upstream')
  for (const key of Object.keys(resolved) as (keyof ResolvedUpstream)[]) {
    const value = input[key] ?? resolved[key]
    if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
      fail(`upstream.${key}`, 'expected a non-negative number of milliseconds')
    }
    resolved[key] = value
  }
  return resolved
}

export interface UpstreamCall<T> {
  service: Service
  /** 0: no timeout (the layer's default), so a hung call lasts until the function times out. */
  timeoutMs: number
  /** A `delay` fault: time spent before the call, holding no outbound connection. */
  delayMs: number
  /** Reads the service's answer at the moment an attempt succeeds, so a rotation meanwhile is seen. */
  perform: () => T
}

/**
 * The extension's AWS clients: at most `maxConnections` calls in flight per service (the rest wait, as Go's
 * transport makes them), each attempt taking the service's latency and one request from the account's
 * quota; a throttled attempt is retried after a backoff, up to three attempts.
 */
export class Upstream {
  readonly #model: ResolvedUpstream
  readonly #maxConnections: number
  readonly #account: EmulatedAccount
  readonly #timers: Timers
  readonly #inFlight: Record<Service, number> = { parameter: 0, secret: 0 }
  readonly #waiting: Record<Service, (() => void)[]> = { parameter: [], secret: [] }

  constructor(model: ResolvedUpstream, maxConnections: number, account: EmulatedAccount, timers: Timers) {
    this.#model = model
    this.#maxConnections = maxConnections
    this.#account = account
    this.#timers = timers
  }

  call<T>(call: UpstreamCall<T>): Promise<T | { failure: UpstreamFailure }> {
    const work = this.#attempt(call)
    if (call.timeoutMs === 0) return work
    return new Promise((resolve) => {
      const timer = this.#timers.after(call.timeoutMs, () => resolve({ failure: timedOut }))
      // A call that ends first frees its timer, so a long timeout holds nothing once answered.
      void work.then((result) => {
        this.#timers.cancel(timer)
        resolve(result)
      })
    })
  }

  async #attempt<T>(call: UpstreamCall<T>): Promise<T | { failure: UpstreamFailure }> {
    const { service } = call
    if (call.delayMs > 0) await this.#timers.sleep(call.delayMs)
    await this.#connection(service)
    try {
      const latencyMs = service === 'secret' ? this.#model.secretLatencyMs : this.#model.parameterLatencyMs
      for (let attempt = 1; ; attempt++) {
        if (latencyMs > 0) await this.#timers.sleep(latencyMs)
        if (this.#account.take(service, performance.now())) return call.perform()
        if (attempt === attempts) return { failure: throttled }
        await this.#timers.sleep(Math.random() * this.#model.retryBackoffMs * 2 ** attempt)
      }
    } finally {
      this.#release(service)
    }
  }

  #connection(service: Service): Promise<void> {
    if (this.#inFlight[service] < this.#maxConnections) {
      this.#inFlight[service]++
      return Promise.resolve()
    }
    // The slot passes straight to the next waiter, so the count stays at the maximum.
    return new Promise((resolve) => this.#waiting[service].push(resolve))
  }

  #release(service: Service): void {
    const next = this.#waiting[service].shift()
    if (next) next()
    else this.#inFlight[service]--
  }
}
