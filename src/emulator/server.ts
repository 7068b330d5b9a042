import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { addressOf } from '../loopback.js'
import { agentFlavour } from './agent.js'
import { ExtensionCache } from './cache.js'
import { type FaultReplyRule, type FaultRule, FaultSchedule, validateFaults } from './faults.js'
import type { Flavour, Read, RequestFacts } from './flavour.js'
import { layerFlavour } from './layer.js'
import { Listener } from './listener.js'
import { logger, quoted } from './log.js'
import type { UpstreamFailure } from './lookup.js'
import { type EmulatorOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { notReadyBody, serviceOf } from './protocol.js'
import { type RecordedRequest, type RequestCounts, RequestLog } from './records.js'
import { Timers } from './timers.js'
import { Upstream } from './upstream.js'
import { compileValues, type EmulatorValues, type ValueStore } from './values.js'

export interface Emulator {
  /** `layer` or `agent`. */
  flavour: 'layer' | 'agent'
  port: number
  /** `http://HOST:PORT`, without a trailing slash. */
  url: string
  /** The token requests must carry, or undefined when any non-empty token is accepted. */
  token: string | undefined
  /** The latest requests (at most `recordLimit`), in order; appended live. Holds no token and no value. */
  requests: RecordedRequest[]
  /** Counts of every request since the start, by outcome, recorded or not. */
  counts: RequestCounts
  /**
   * Replaces the values and empties the extension's cache, so the new values are served at once. With
   * `{ keepCache: true }` cached answers stay until their TTL, as after a rotation on AWS.
   */
  setValues(values: EmulatorValues, options?: { keepCache?: boolean }): void
  /** Drops the extension's cache, as its TTL passing or a new execution environment would. */
  clearCache(): void
  /** Replaces the fault rules and restarts their clock and counters. */
  setFaults(faults: FaultRule[]): void
  /** Stops listening, destroys every connection (hanging ones too) and clears every timer. */
  close(): Promise<void>
}

/** How an answer leaves: whole (`close` ends the connection after it), or cut halfway through its body. */
type Delivery = 'whole' | 'close' | 'reset-mid-body' | 'truncate'

type Reply =
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'send'; status: number; body: string; delivery?: Delivery }

const redacted = '[redacted]'
const midBodyResetMs = 20

/**
 * Starts a loopback HTTP server that speaks the protocol of the AWS Parameters and Secrets Lambda
 * Extension (flavour `layer`) or of the AWS Secrets Manager Agent (flavour `agent`), with the extension's
 * cache, a model of the AWS calls behind a cache miss, and declarative faults.
 * @throws TypeError when an option, a value or a fault rule is invalid
 */
export async function startEmulator(options?: EmulatorOptions): Promise<Emulator> {
  const resolved = resolveOptions(options)
  const { token, host, account } = resolved
  const log = logger(resolved.settings.logLevel, resolved.log)
  for (const warning of resolved.warnings) log('warn', warning)
  log('debug', `configuration: ${describeConfiguration(resolved)}`)
  const flavour: Flavour =
    resolved.flavour === 'agent' ? agentFlavour(resolved.maxConn) : layerFlavour(resolved.unconfirmed)
  const expectedDigest = token === undefined ? undefined : sha256(token)
  const { settings } = resolved
  const cache = new ExtensionCache({
    enabled: settings.cacheEnabled,
    size: settings.cacheSize,
    ttlMs: settings.ttlMs,
  })
  const timers = new Timers()
  const upstream = new Upstream(resolved.upstream, settings.maxConnections, account, timers)
  const records = new RequestLog(resolved.recordLimit)
  const sockets = new Set<Socket>()
  let store: ValueStore = resolved.values
  let schedule = new FaultSchedule(resolved.faults, performance.now())
  let refuseTimer: NodeJS.Timeout | undefined
  let closing: Promise<void> | undefined
  const startedAt = performance.now()

  const server = createServer((request, response) => void handle(request, response))
  server.keepAliveTimeout = flavour.name === 'layer' ? resolved.unconfirmed.keepAliveTimeoutMs : 0
  // Errors of the listening socket are handled by the listener; none may reach the console.
  server.on('error', () => {})
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    // The agent serves each connection for a fixed time from its accept, then drops it, mid-request or not.
    const lifetime =
      flavour.name === 'agent'
        ? timers.after(resolved.connectionLifetimeMs, () => socket.destroy())
        : undefined
    socket.once('close', () => {
      sockets.delete(socket)
      if (lifetime) timers.cancel(lifetime)
    })
  })
  const listener = new Listener(server, host, resolved.port)
  const port = await listener.open()
  syncRefusal()

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    request.resume()
    const now = performance.now()
    const rawUrl = request.url ?? '/'
    const queryStart = rawUrl.indexOf('?')
    const path = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart)
    const query = new URLSearchParams(queryStart === -1 ? '' : rawUrl.slice(queryStart + 1))
    const presented = flavour.tokenHeaders.map((name) => headerValue(request.headers[name]))
    const facts: RequestFacts = {
      request,
      path,
      query,
      openConnections: sockets.size,
      tokenAccepted: (names) =>
        names.some((name) => {
          const value = headerValue(request.headers[name])
          return (
            value !== '' && (expectedDigest === undefined || timingSafeEqual(sha256(value), expectedDigest))
          )
        }),
    }
    const tokenPresent = presented.some((value) => value !== '')
    const record: RecordedRequest = {
      at: now - startedAt,
      method: request.method ?? '',
      path,
      query: recordedQuery(query, [...presented, token]),
      headers: headerNames(request.rawHeaders),
      tokenPresent,
      tokenAccepted: facts.tokenAccepted(flavour.tokenHeaders),
      outcome: 'served',
    }
    records.add(record)

    // A request that slipped in on a connection opened before a refuse window finds no extension.
    if (listener.refusing) {
      settle(record, { kind: 'reset' }, request, response)
      return
    }
    const service = serviceOf(path)
    const name = query.get(service === 'secret' ? 'secretId' : 'name') ?? undefined
    const target = { service, name }
    const action = schedule.actionFor(target, now)
    if (action && !modifiesDelivery(action)) {
      const reply = faultReply(action, record, flavour)
      log('info', `${request.method} ${quoted(path)}: ${action.action} (fault rule)`)
      settle(record, reply, request, response)
      return
    }
    let reply = await answer(facts, record, target)
    if (closing) return
    if (action && reply.kind === 'send') {
      if (action.action !== 'close-after') record.outcome = action.action
      reply = { ...reply, delivery: action.action === 'close-after' ? 'close' : action.action }
    }
    settle(record, reply, request, response)
  }

  async function answer(
    facts: RequestFacts,
    record: RecordedRequest,
    target: { service: ReturnType<typeof serviceOf>; name: string | undefined },
  ): Promise<Reply> {
    const checked = flavour.check(facts)
    if (checked.kind === 'refusal') {
      record.outcome = checked.status === 200 ? 'served' : 'error'
      record.diagnosis = checked.diagnosis as RecordedRequest['diagnosis']
      log(
        checked.status === 200 ? 'debug' : 'warn',
        `${facts.request.method} ${quoted(facts.path)}: ${checked.diagnosis} (${checked.status})`,
      )
      const body = checked.status === 200 ? checked.body : checked.body + flavour.errorSuffix
      return { kind: 'send', status: checked.status, body }
    }
    const read = checked
    if (!read.refreshNow) {
      const hit = cache.get(read.cacheKey, performance.now())
      if (hit !== undefined) {
        record.cached = true
        record.diagnosis = 'hit'
        log('info', `${describeRead(read)}: hit`)
        return { kind: 'send', status: 200, body: hit }
      }
    }
    const result = await upstream.call({
      service: read.service,
      timeoutMs: settings.timeoutMs[read.service],
      // Upstream time: a cache hit, answered from memory, is never slowed.
      delayMs: schedule.delayFor(target, performance.now()),
      perform: () => read.lookup(store, account),
    })
    if ('failure' in result) return failed(read, record, result.failure)
    record.cached = false
    record.diagnosis = 'miss'
    // The agent's refreshNow rewrites the entry; a failure leaves the old one.
    cache.set(read.service, read.cacheKey, result.body, performance.now())
    log('info', `${describeRead(read)}: miss`)
    return { kind: 'send', status: 200, body: result.body }
  }

  function failed(read: Read, record: RecordedRequest, failure: UpstreamFailure): Reply {
    record.outcome = 'error'
    record.diagnosis = failure.diagnosis
    const client = read.service === 'secret' ? 'Secrets Manager' : 'SSM'
    // The layer's own words for a failed call, then what the emulator knows: name and outcome.
    log(
      'error',
      `${read.operation} request encountered an error: operation error ${client}: ${read.operation}, https response error StatusCode: ${failure.status}, ${failure.type}: ${failure.message} (${describeRead(read)}: ${failure.diagnosis})`,
    )
    const { status, body } = flavour.failure(failure)
    return { kind: 'send', status, body: body + flavour.errorSuffix }
  }

  function describeRead(read: Read): string {
    const selectors = read.selectors.map(
      ([key, value]) => `${key}=${value !== '' && value === token ? redacted : quoted(value)}`,
    )
    return [read.operation, quoted(read.name), ...selectors].join(' ')
  }

  function settle(
    record: RecordedRequest,
    reply: Reply,
    request: IncomingMessage,
    response: ServerResponse,
  ): void {
    if (reply.kind === 'send') record.status = reply.status
    records.settled(record)
    if (reply.kind === 'reset') {
      record.outcome = 'reset'
      resetConnection(request.socket)
    } else if (reply.kind === 'send') {
      if (listener.refusing) response.shouldKeepAlive = false
      deliver(reply, flavour.contentType, request.socket, response, timers)
    }
  }

  function syncRefusal(): void {
    clearTimeout(refuseTimer)
    refuseTimer = undefined
    if (closing) return
    const now = performance.now()
    listener.setRefusing(schedule.refusing(now))
    const next = schedule.nextRefuseChange(now)
    if (next === undefined) return
    // Rescheduling from the actual time keeps a timer that fires a little early from missing the change.
    const wait = Math.min(Math.max(1, Math.ceil(next - now)), 2_147_483_647)
    refuseTimer = setTimeout(syncRefusal, wait)
  }

  return {
    flavour: flavour.name,
    port,
    url: `http://${addressOf(host, port)}`,
    token,
    requests: records.requests,
    counts: records.counts,
    setValues(values, options = {}) {
      store = compileValues(values, 'values')
      if (!options.keepCache) cache.clear()
    },
    clearCache() {
      cache.clear()
    },
    setFaults(faults) {
      schedule = new FaultSchedule(validateFaults(faults), performance.now())
      syncRefusal()
    },
    close() {
      closing ??= (async () => {
        clearTimeout(refuseTimer)
        timers.clearAll()
        await listener.close()
        const drained = new Promise<void>((resolve) => server.close(() => resolve()))
        for (const socket of sockets) socket.destroy()
        await drained
      })()
      return closing
    },
  }
}

function describeConfiguration(resolved: ResolvedOptions): string {
  const { settings } = resolved
  return [
    `flavour=${resolved.flavour}`,
    `SECRETS_MANAGER_TTL=${settings.ttlMs.secret / 1000}`,
    ...(resolved.flavour === 'layer' ? [`SSM_PARAMETER_STORE_TTL=${settings.ttlMs.parameter / 1000}`] : []),
    `PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED=${settings.cacheEnabled}`,
    `PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE=${settings.cacheSize}`,
    `PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS=${settings.maxConnections}`,
    `SECRETS_MANAGER_TIMEOUT_MILLIS=${settings.timeoutMs.secret}`,
    `SSM_PARAMETER_STORE_TIMEOUT_MILLIS=${settings.timeoutMs.parameter}`,
  ].join(' ')
}

const modifiesDelivery = (
  action: FaultReplyRule,
): action is Extract<FaultReplyRule, { action: 'close-after' | 'reset-mid-body' | 'truncate' }> =>
  action.action === 'close-after' || action.action === 'reset-mid-body' || action.action === 'truncate'

function faultReply(action: FaultReplyRule, record: RecordedRequest, flavour: Flavour): Reply {
  record.outcome = action.action === 'respond' ? 'status' : (action.action as RecordedRequest['outcome'])
  record.diagnosis = action.action === 'not-ready' ? 'not ready' : 'fault'
  switch (action.action) {
    case 'reset':
      return { kind: 'reset' }
    case 'not-ready':
      return { kind: 'send', status: 400, body: notReadyBody + flavour.errorSuffix }
    case 'respond':
      return { kind: 'send', status: action.status, body: action.body ?? '' }
    default:
      return { kind: 'hang' }
  }
}

function deliver(
  reply: Extract<Reply, { kind: 'send' }>,
  contentType: string | null,
  socket: Socket,
  response: ServerResponse,
  timers: Timers,
): void {
  const { status, body, delivery = 'whole' } = reply
  const bytes = Buffer.from(body)
  response.writeHead(status, {
    ...(contentType === null ? {} : { 'content-type': contentType }),
    'content-length': bytes.length,
  })
  if (delivery === 'whole') {
    response.end(bytes)
  } else if (delivery === 'close') {
    // Sent as a keep-alive answer, so the client pools the socket and only later finds it closed.
    response.end(bytes, () => socket.end())
  } else {
    // The declared length promises more than is sent; the client must not take the half as the answer.
    response.flushHeaders()
    response.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => {
      if (delivery === 'truncate') {
        socket.end()
        return
      }
      // A reset sent at once can overtake the half body, or reach the peer as a plain close: a short
      // pause lets the client read the half first, as when a connection dies mid-transfer.
      timers.after(midBodyResetMs, () => resetConnection(socket))
    })
  }
}

function resetConnection(socket: Socket): void {
  // A reset, not a clean close, is what a client sees when the extension drops it: ECONNRESET.
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy()
  else socket.destroy()
}

function headerNames(rawHeaders: string[]): string[] {
  const names = rawHeaders.filter((_, index) => index % 2 === 0).map((name) => name.toLowerCase())
  return [...new Set(names)]
}

function headerValue(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '')
}

function recordedQuery(query: URLSearchParams, secrets: (string | undefined)[]): Record<string, string> {
  const recorded: [string, string][] = []
  for (const [name, value] of query) {
    if (recorded.some(([seen]) => seen === name)) continue
    // A client that puts the token in the query must not get it recorded.
    recorded.push([name, value !== '' && secrets.includes(value) ? redacted : value])
  }
  return Object.fromEntries(recorded)
}

// Tokens are compared as digests: equal lengths for timingSafeEqual, and no timing tied to the token.
function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}
