import { fail, isRecord, listOf, rejectUnknownKeys } from './check.js'
import type { Service } from './protocol.js'

/** Which requests a rule applies to; default all. `name` is compared with `secretId` or `name` as sent. */
export interface FaultMatch {
  service?: Service
  name?: string
}

interface FaultWindow {
  /** Active from this many ms after the emulator started or `setFaults` was called. Default 0. */
  afterMs?: number
  /** Active for this many ms. Default forever. */
  forMs?: number
}

interface FaultScope extends FaultWindow {
  match?: FaultMatch
  /** Applies to the first N matching requests only (counted per rule). */
  times?: number
}

/**
 * A declarative fault. Rules are evaluated in order for every request; the first active, matching
 * rule acts, except `delay`, which adds its delay and lets evaluation continue.
 */
export type FaultRule =
  /** Nothing listens on the port during the window (ECONNREFUSED); the same port serves again after. */
  | (FaultWindow & { action: 'refuse'; match?: never; times?: never })
  /** The connection is reset without an answer (ECONNRESET). */
  | (FaultScope & { action: 'reset' })
  /** No answer until the emulator closes. */
  | (FaultScope & { action: 'hang' })
  /** The layer's `400 not ready to serve traffic, please wait`. */
  | (FaultScope & { action: 'not-ready' })
  /** An answer with this status and text body. */
  | (FaultScope & { action: 'respond'; status: number; body?: string })
  /** Waits, then evaluation continues with the following rules. */
  | (FaultScope & { action: 'delay'; ms: number })
  /** The answer's headers and the first half of its body, then a reset (ECONNRESET mid-body). */
  | (FaultScope & { action: 'reset-mid-body' })
  /** The answer's headers and the first half of its body, then a clean close: fewer bytes than declared. */
  | (FaultScope & { action: 'truncate' })
  /** The whole answer, kept alive by its headers, then the connection closed, as by an idle timeout. */
  | (FaultScope & { action: 'close-after' })

export type FaultAction = FaultRule['action']

/** A rule that answers a request in place of the layer, or changes how the layer's answer is sent. */
export type FaultReplyRule = Exclude<FaultRule, { action: 'refuse' | 'delay' }>

const actionKeys: Record<FaultAction, readonly string[]> = {
  refuse: [],
  reset: [],
  hang: [],
  'not-ready': [],
  respond: ['status', 'body'],
  delay: ['ms'],
  'reset-mid-body': [],
  truncate: [],
  'close-after': [],
}
const actions = Object.keys(actionKeys)

/** @throws TypeError naming the rule, e.g. `faults[2].action: unknown action "boom"` */
export function validateFaults(input: unknown, path = 'faults'): FaultRule[] {
  if (!Array.isArray(input)) fail(path, 'expected an array of rules')
  return input.map((rule: unknown, index) => validateRule(rule, `${path}[${index}]`))
}

function validateRule(rule: unknown, path: string): FaultRule {
  if (!isRecord(rule)) fail(path, 'expected an object')
  const { action } = rule
  if (typeof action !== 'string' || !actions.includes(action)) {
    fail(`${path}.action`, `unknown action ${JSON.stringify(action)} (expected ${listOf(actions)})`)
  }
  const own = actionKeys[action as FaultAction]
  rejectUnknownKeys(rule, ['action', 'match', 'times', 'afterMs', 'forMs', ...own], path)
  checkNumber(rule.afterMs, `${path}.afterMs`)
  checkNumber(rule.forMs, `${path}.forMs`)
  if (action === 'refuse') {
    // The listener is shared by all requests, so refusing can only follow the clock.
    for (const key of ['match', 'times']) {
      if (rule[key] !== undefined)
        fail(`${path}.${key}`, 'not supported by "refuse", which is time-based only')
    }
  }
  if (rule.times !== undefined && !(Number.isInteger(rule.times) && (rule.times as number) > 0)) {
    fail(`${path}.times`, 'expected a positive integer')
  }
  if (rule.match !== undefined) checkMatch(rule.match, `${path}.match`)
  if (action === 'respond') {
    const { status, body } = rule
    if (!(Number.isInteger(status) && (status as number) >= 200 && (status as number) <= 599)) {
      fail(`${path}.status`, 'expected an integer from 200 to 599')
    }
    if (body !== undefined && typeof body !== 'string') fail(`${path}.body`, 'expected a string')
  }
  if (action === 'delay') {
    if (rule.ms === undefined) fail(`${path}.ms`, 'expected a number of milliseconds')
    checkNumber(rule.ms, `${path}.ms`)
  }
  const copy = { ...rule } as unknown as FaultRule
  if (copy.match) copy.match = { ...copy.match }
  return copy
}

function checkMatch(match: unknown, path: string): void {
  if (!isRecord(match)) fail(path, 'expected an object')
  rejectUnknownKeys(match, ['service', 'name'], path)
  if (match.service !== undefined && match.service !== 'parameter' && match.service !== 'secret') {
    fail(`${path}.service`, 'expected "parameter" or "secret"')
  }
  if (match.name !== undefined && (typeof match.name !== 'string' || match.name === '')) {
    fail(`${path}.name`, 'expected a non-empty string')
  }
}

function checkNumber(value: unknown, path: string): void {
  if (value === undefined) return
  if (typeof value !== 'number' || !(value >= 0) || value === Number.POSITIVE_INFINITY) {
    fail(path, 'expected a non-negative number of milliseconds')
  }
}

export interface FaultTarget {
  service: Service | undefined
  name: string | undefined
}

/** Rules with their own clock (started at construction) and per-rule counters. */
export class FaultSchedule {
  readonly #rules: readonly FaultRule[]
  readonly #counts: number[]
  readonly #origin: number

  constructor(rules: readonly FaultRule[], origin: number) {
    this.#rules = rules
    this.#counts = rules.map(() => 0)
    this.#origin = origin
  }

  /** The total delay the active `delay` rules add to a request arriving now (their counters advance). */
  delayFor(target: FaultTarget, now: number): number {
    let delayMs = 0
    for (const [index, rule] of this.#rules.entries()) {
      if (rule.action !== 'delay' || !this.#applies(index, rule, target, now)) continue
      delayMs += rule.ms
    }
    return delayMs
  }

  /**
   * The first active rule that answers a request, decided when the answer is due (after any delay), so
   * a window that closes or a rotation made during a delay is seen, as on a slow server.
   */
  actionFor(target: FaultTarget, now: number): FaultReplyRule | undefined {
    for (const [index, rule] of this.#rules.entries()) {
      if (rule.action === 'delay' || rule.action === 'refuse' || !this.#applies(index, rule, target, now))
        continue
      return rule
    }
    return undefined
  }

  /** Whether the rule is active and matches, counting it against `times` when it does. */
  #applies(index: number, rule: FaultRule, target: FaultTarget, now: number): boolean {
    if (!this.#active(rule, now) || !matches(rule.match, target)) return false
    const count = this.#counts[index] ?? 0
    if (rule.times !== undefined && count >= rule.times) return false
    this.#counts[index] = count + 1
    return true
  }

  refusing(now: number): boolean {
    return this.#rules.some((rule) => rule.action === 'refuse' && this.#active(rule, now))
  }

  /** The next moment a refuse window opens or closes, if any. */
  nextRefuseChange(now: number): number | undefined {
    const elapsed = now - this.#origin
    const changes = this.#rules
      .filter((rule) => rule.action === 'refuse')
      .flatMap((rule) => [rule.afterMs ?? 0, (rule.afterMs ?? 0) + (rule.forMs ?? Number.POSITIVE_INFINITY)])
      .filter((change) => change > elapsed && Number.isFinite(change))
    return changes.length === 0 ? undefined : this.#origin + Math.min(...changes)
  }

  #active(rule: FaultRule, now: number): boolean {
    const elapsed = now - this.#origin
    const from = rule.afterMs ?? 0
    return elapsed >= from && elapsed < from + (rule.forMs ?? Number.POSITIVE_INFINITY)
  }
}

function matches(match: FaultMatch | undefined, target: FaultTarget): boolean {
  if (match === undefined) return true
  if (match.service !== undefined && match.service !== target.service) return false
  return match.name === undefined || match.name === target.name
}
