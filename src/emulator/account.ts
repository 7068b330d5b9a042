import { fail, isRecord, rejectUnknownKeys } from './check.js'
import type { Service } from './protocol.js'

export interface AccountOptions {
  /** Used in ARNs. Default `us-east-1`. */
  region?: string
  /** Used in ARNs. Default `123456789012`. */
  accountId?: string
  /** Parameter Store's throughput for the account and region: 40 reads/s standard, 10 000 with higher throughput. Default 40. */
  getParameterPerSecond?: number
  /** Secrets Manager's GetSecretValue quota. Default 10 000. */
  getSecretValuePerSecond?: number
}

/**
 * One AWS account and region as the emulators see it: its ARNs and its request quotas. Quotas are
 * account-wide, so emulators that model several execution environments share one account object.
 */
export interface EmulatedAccount {
  readonly region: string
  readonly accountId: string
  /** Takes one request from the service's quota; false when the call would be throttled. */
  take(service: Service, now: number): boolean
}

/**
 * Creates an account whose token buckets several emulators can share:
 * `const account = createAccount(); await startEmulator({ account }); await startEmulator({ account })`.
 * @throws TypeError naming the option
 */
export function createAccount(options: AccountOptions = {}): EmulatedAccount {
  if (!isRecord(options)) fail('options', 'expected an object')
  rejectUnknownKeys(
    options,
    ['region', 'accountId', 'getParameterPerSecond', 'getSecretValuePerSecond'],
    'account',
  )
  const { region = 'us-east-1', accountId = '123456789012' } = options
  if (typeof region !== 'string' || region === '') fail('account.region', 'expected a non-empty string')
  if (typeof accountId !== 'string' || accountId === '')
    fail('account.accountId', 'expected a non-empty string')
  const buckets: Record<Service, TokenBucket> = {
    parameter: new TokenBucket(rate(options.getParameterPerSecond, 40, 'account.getParameterPerSecond')),
    secret: new TokenBucket(rate(options.getSecretValuePerSecond, 10_000, 'account.getSecretValuePerSecond')),
  }
  return { region, accountId, take: (service, now) => buckets[service].take(now) }
}

/** An account that never throttles: what an emulator uses when no account is shared with it. */
export function unthrottledAccount(region: string, accountId: string): EmulatedAccount {
  return { region, accountId, take: () => true }
}

function rate(value: unknown, fallback: number, path: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    fail(path, 'expected a positive number of requests per second')
  }
  return value
}

/**
 * AWS quotas are token buckets: a second's worth of requests can come at once, then they refill at the
 * rate. Refilled from the clock at each call, so an idle bucket costs no timer.
 */
class TokenBucket {
  readonly #perMs: number
  readonly #capacity: number
  #tokens: number
  #updatedAt: number | undefined

  constructor(perSecond: number) {
    this.#perMs = perSecond / 1000
    this.#capacity = Math.max(1, perSecond)
    this.#tokens = this.#capacity
  }

  take(now: number): boolean {
    if (this.#updatedAt !== undefined) {
      this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#updatedAt) * this.#perMs)
    }
    this.#updatedAt = now
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }
}
