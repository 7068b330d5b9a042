import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { type Account, answerParameter, answerSecret } from './answers.js'
import { LayerCache } from './cache.js'
import { type FaultReplyRule, type FaultRule, FaultSchedule, validateFaults } from './faults.js'
import { Listener } from './listener.js'
import { type EmulatorOptions, resolveOptions } from './options.js'
import { notReadyBody, serviceOf, tokenHeader } from './protocol.js'
import { compileValues, type EmulatorValues, type ValueStore } from './values.js'

export interface Emulator {
  port: number
  /** `http://HOST:PORT`, without a trailing slash. */
  url: string
  /** The token requests must carry, or undefined when any non-empty token is accepted. */
  token: string | undefined
  /** Every request received, in order; appended live. Holds no token and no value. */
  requests: RecordedRequest[]
  /** Replaces the values, as a rotation would. Cached answers stay stale until their TTL, like the layer's. */
  setValues(values: EmulatorValues): void
  /** Drops the layer's cache. */
  clearCache(): void
  /** Replaces the fault rules and restarts their clock and counters. */
  setFaults(faults: FaultRule[]): void
  /** Stops listening, destroys every connection (hanging ones too) and clears every timer. */
  close(): Promise<void>
}

export type RequestOutcome =
  | 'served'
  | 'not-ready'
  | 'reset'
  | 'hang'
  | 'status'
  | 'error'
  | 'reset-mid-body'
  | 'truncate'

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
  /** `served`: a 200; `error`: any other answer of the layer's own; the rest come from fault rules. */
  outcome: RequestOutcome
  status?: number
  /** Whether a 200 came from the layer's cache. */
  cached?: boolean
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
 * Extension, with the layer's cache and declarative faults.
 * @throws TypeError when an option, a value or a fault rule is invalid
 */
export async function startEmulator(options?: EmulatorOptions): Promise<Emulator> {
  const resolved = resolveOptions(options)
  const { token, host } = resolved
  const account: Account = { region: resolved.region, accountId: resolved.accountId }
  const expectedDigest = token === undefined ? undefined : sha256(token)
  const cache = new LayerCache(resolved.cacheTtlMs)
  const requests: RecordedRequest[] = []
  const sockets = new Set<Socket>()
  const delays = new Set<NodeJS.Timeout>()
  let store: ValueStore = resolved.values
  let schedule = new FaultSchedule(resolved.faults, performance.now())
  let refuseTimer: NodeJS.Timeout | undefined
  let closing: Promise<void> | undefined
  const startedAt = performance.now()

  const server = createServer(handle)
  server.keepAliveTimeout = 5_000
  // Errors of the listening socket are handled by the listener; none may reach the console.
  server.on('error', () => {})
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  const listener = new Listener(server, host, resolved.port)
  const port = await listener.open()
  syncRefusal()

  function handle(request: IncomingMessage, response: ServerResponse): void {
    request.resume()
    const now = performance.now()
    const rawUrl = request.url ?? '/'
    const queryStart = rawUrl.indexOf('?')
    const path = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart)
    const query = new URLSearchParams(queryStart === -1 ? '' : rawUrl.slice(queryStart + 1))
    const presented = headerValue(request.headers[tokenHeader])
    const tokenPresent = presented !== ''
    const tokenAccepted =
      tokenPresent && (expectedDigest === undefined || timingSafeEqual(sha256(presented), expectedDigest))
    const record: RecordedRequest = {
      at: now - startedAt,
      method: request.method ?? '',
      path,
      query: recordedQuery(query, [presented, token]),
      headers: headerNames(request.rawHeaders),
      tokenPresent,
      tokenAccepted,
      outcome: 'served',
    }
    requests.push(record)

    // A request that slipped in on a connection opened before a refuse window finds no layer.
    if (listener.refusing) {
      settle(record, { kind: 'reset' }, request, response)
      return
    }
    const service = serviceOf(path)
    const name = query.get(service === 'secret' ? 'secretId' : 'name') ?? undefined
    const target = { service, name }
    const reply = () => {
      const at = performance.now()
      const action = schedule.actionFor(target, at)
      const layer = () => answer(request, rawUrl, query, record, at)
      settle(record, action ? faultReply(action, record, layer) : layer(), request, response)
    }
    const delayMs = schedule.delayFor(target, now)
    if (delayMs === 0) {
      reply()
      return
    }
    const timer = setTimeout(() => {
      delays.delete(timer)
      reply()
    }, delayMs)
    delays.add(timer)
  }

  function answer(
    request: IncomingMessage,
    rawUrl: string,
    query: URLSearchParams,
    record: RecordedRequest,
    now: number,
  ): Reply {
    const error = (status: number, body: string): Reply => {
      record.outcome = 'error'
      return { kind: 'send', status, body }
    }
    // Checked in the order of the open-source agent, which speaks the same protocol.
    if (request.headers['x-forwarded-for'] !== undefined) return error(400, 'Forwarded')
    if (!record.tokenAccepted) return error(403, 'Bad Token')
    if (request.method !== 'GET') return error(405, 'Not allowed')
    const service = serviceOf(record.path)
    if (service === undefined) return error(404, 'Not found')
    const cached = cache.get(rawUrl, now)
    if (cached !== undefined) {
      record.cached = true
      return { kind: 'send', status: 200, body: cached }
    }
    const { status, body } = (service === 'secret' ? answerSecret : answerParameter)(store, account, query)
    if (status !== 200) return error(status, body)
    record.cached = false
    cache.set(rawUrl, body, now)
    return { kind: 'send', status, body }
  }

  function settle(
    record: RecordedRequest,
    reply: Reply,
    request: IncomingMessage,
    response: ServerResponse,
  ): void {
    if (reply.kind === 'send') record.status = reply.status
    if (reply.kind === 'reset') {
      record.outcome = 'reset'
      resetConnection(request.socket)
    } else if (reply.kind === 'send') {
      if (listener.refusing) response.shouldKeepAlive = false
      deliver(reply, request.socket, response, delays)
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
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    token,
    requests,
    setValues(values) {
      store = compileValues(values, 'values')
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
        for (const timer of delays) clearTimeout(timer)
        delays.clear()
        await listener.close()
        const drained = new Promise<void>((resolve) => server.close(() => resolve()))
        for (const socket of sockets) socket.destroy()
        await drained
      })()
      return closing
    },
  }
}

function faultReply(action: FaultReplyRule, record: RecordedRequest, layer: () => Reply): Reply {
  if (action.action === 'close-after' || action.action === 'reset-mid-body' || action.action === 'truncate') {
    // These change how the layer's own answer is sent, not what it says.
    const reply = layer()
    if (reply.kind !== 'send') return reply
    if (action.action !== 'close-after') record.outcome = action.action
    return { ...reply, delivery: action.action === 'close-after' ? 'close' : action.action }
  }
  record.outcome = action.action === 'respond' ? 'status' : action.action
  switch (action.action) {
    case 'reset':
      return { kind: 'reset' }
    case 'hang':
      return { kind: 'hang' }
    case 'not-ready':
      return { kind: 'send', status: 400, body: notReadyBody }
    case 'respond':
      return { kind: 'send', status: action.status, body: action.body ?? '' }
  }
}

function deliver(
  reply: Extract<Reply, { kind: 'send' }>,
  socket: Socket,
  response: ServerResponse,
  delays: Set<NodeJS.Timeout>,
): void {
  const { status, body, delivery = 'whole' } = reply
  const bytes = Buffer.from(body)
  // Go's net/http labels a body without a Content-Type as text/plain, JSON included: clients must not
  // depend on it.
  response.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
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
      const timer = setTimeout(() => {
        delays.delete(timer)
        resetConnection(socket)
      }, midBodyResetMs)
      delays.add(timer)
    })
  }
}

function resetConnection(socket: Socket): void {
  // A reset, not a clean close, is what a client sees when the layer drops it: ECONNRESET.
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
