import type { IncomingMessage } from 'node:http'
import type { Arns, UpstreamFailure } from './lookup.js'
import type { Service } from './protocol.js'
import type { ValueStore } from './values.js'

// What the layer and the agent have in common, so that the server wires one of them and knows neither.

/** An answer that ends the request before the cache: a refused token, a bad query, a health check. */
export interface Refusal {
  kind: 'refusal'
  status: number
  body: string
  /** Words for the log line, e.g. `bad token`. */
  diagnosis: string
}

/** A read the flavour accepted: looked up in its cache, or upstream on a miss. */
export interface Read {
  kind: 'read'
  service: Service
  /** The AWS operation, for log lines. */
  operation: 'GetSecretValue' | 'GetParameter'
  name: string
  /** Selectors as asked (`versionStage=AWSPREVIOUS`), for log lines and records; never a value. */
  selectors: [string, string][]
  cacheKey: string
  /** The agent's `refreshNow=true`: skip the cache, then rewrite the entry. */
  refreshNow: boolean
  /** What the service answers now: the success body in this flavour's shape, or the AWS error. */
  lookup(store: ValueStore, arns: Arns): { body: string } | { failure: UpstreamFailure }
}

export interface RequestFacts {
  request: IncomingMessage
  path: string
  query: URLSearchParams
  /** Whether a header carried the expected token, as this flavour reads headers. */
  tokenAccepted(headerNames: readonly string[]): boolean
  /** Open connections, this one included. */
  openConnections: number
}

export interface Flavour {
  readonly name: 'layer' | 'agent'
  /** The headers whose presence counts as presenting a token. */
  readonly tokenHeaders: readonly string[]
  /** The checks before any cache lookup, in this flavour's order. */
  check(facts: RequestFacts): Refusal | Read
  /** How an upstream failure reaches the client. */
  failure(failure: UpstreamFailure): { status: number; body: string }
  /** Headers of every answer; none for Content-Type means the header is left out. */
  contentType: string | null
  /** Appended to every error body. */
  errorSuffix: string
}
