export type RequestOutcome =
  | 'served'
  | 'not-ready'
  | 'reset'
  | 'hang'
  | 'status'
  | 'error'
  | 'reset-mid-body'
  | 'truncate'

/** What happened to a request, in the words of the command's log line. */
export type Diagnosis =
  | 'hit'
  | 'miss'
  | 'unknown name'
  | 'denied'
  | 'invalid request'
  | 'throttled'
  | 'timeout'
  | 'not ready'
  | 'bad token'
  | 'bad request'
  | 'forwarded'
  | 'connection limit'
  | 'health check'
  | 'fault'

export interface RecordedRequest {
  /** Milliseconds since the emulator started. */
  at: number
  method: string
  /** The path without the query. */
  path: string
  /** The decoded query; the first value of each name. */
  query: Record<string, string>
  /** Lower-cased names of the headers sent, without their values. */
  headers: string[]
  tokenPresent: boolean
  tokenAccepted: boolean
  /** `served`: a 200; `error`: any other answer of the extension's own; the rest come from fault rules. */
  outcome: RequestOutcome
  /** Why, as the log line says it: `hit`, `miss`, `unknown name`, `denied`, `throttled`, ... */
  diagnosis?: Diagnosis
  status?: number
  /** Whether a 200 came from the extension's cache. */
  cached?: boolean
}

export interface RequestCounts {
  /** Every request received since the start, recorded or not. */
  total: number
  byOutcome: Partial<Record<RequestOutcome, number>>
}

/**
 * The last `limit` requests, oldest first, and counts of all of them: a long-running command must not
 * grow with every request it answers.
 */
export class RequestLog {
  readonly requests: RecordedRequest[] = []
  readonly counts: RequestCounts = { total: 0, byOutcome: {} }
  readonly #limit: number

  constructor(limit: number) {
    this.#limit = limit
  }

  add(record: RecordedRequest): void {
    this.counts.total++
    if (this.#limit === 0) return
    this.requests.push(record)
    if (this.requests.length > this.#limit) this.requests.shift()
  }

  /** Counted once the outcome is known: a request still waiting upstream has none yet. */
  settled(record: RecordedRequest): void {
    this.counts.byOutcome[record.outcome] = (this.counts.byOutcome[record.outcome] ?? 0) + 1
  }
}
