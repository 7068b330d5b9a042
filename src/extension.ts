import { Agent, request } from 'node:http'
import type { Options as RetryOptions } from 'p-retry'
import { type ExtensionSecretsErrorCode, isThrottled } from './errors.js'
import { addressOf } from './loopback.js'

// The extension's protocol, knowing nothing of Middy or fetchData keys: one GET on loopback, retried
// while the extension is not ready, answered with the 200 body or a classified failure (docs/errors.md).

/** What to ask the extension for. */
export interface Source {
  service: 'parameter' | 'secret'
  /** Parameter name, path or ARN; secret name or ARN. */
  name: string
  version?: number | undefined
  label?: string | undefined
  decrypt?: boolean | undefined
  versionId?: string | undefined
  versionStage?: string | undefined
}

/** The request path. Every value is percent-encoded: the extension decodes the query form-style. */
export const requestPath = (source: Source, refreshNow = false): string => {
  const query = (name: string, value: string | number | undefined) =>
    value === undefined ? '' : `&${name}=${encodeURIComponent(value)}`
  return source.service === 'secret'
    ? `/secretsmanager/get?secretId=${encodeURIComponent(source.name)}${query('versionId', source.versionId)}${query('versionStage', source.versionStage)}${refreshNow ? '&refreshNow=true' : ''}`
    : `/systemsmanager/parameters/get?name=${encodeURIComponent(source.name)}${query('version', source.version)}${query('label', source.label)}${source.decrypt === false ? '' : '&withDecryption=true'}`
}

export interface Connection {
  host: string
  port: number
  /** Where `port` came from, for the unreachable diagnosis. */
  portFrom: string
  token: string | undefined
  requestTimeout: number
  retry: RetryOptions
}

export interface Failure {
  code: ExtensionSecretsErrorCode
  reason: string
  status?: number
  body?: string
  /** The layer's generic 400 came after `throttledAfterMs` or more: throttling, not a missing name. */
  throttled?: boolean
  /** `coldStartRetry` was still asking when the deadline came: another invocation may ask again. */
  cutByDeadline?: boolean
}

export type Answer = ({ body: Buffer } | { failure: Failure }) & { attempts: number; elapsedMs: number }

/**
 * An attempt worth repeating. `refused`, `reset` and `not-ready` mean the extension is not serving yet;
 * `cut` that it answered but closed the connection inside the answer; `timeout`, `status` (429, 5xx) and
 * `other` are worth another attempt too.
 */
class Again extends Error {
  constructor(
    readonly kind: 'refused' | 'reset' | 'not-ready' | 'cut' | 'timeout' | 'status' | 'other',
    readonly status?: number,
    readonly body?: string,
  ) {
    super(kind)
  }
}

// p-retry is loaded when a middleware is created, without waiting for it: creation does not wait for
// it, and it is there before the first invocation asks.
let retryModule: Promise<typeof import('p-retry')> | undefined
export const loadRetry = () => {
  retryModule ??= import('p-retry')
  return retryModule
}

// One keep-alive agent for the process, made on first use: reusing sockets saves a handshake per value
// on warm invocations, and the socket cap bounds the requests in flight whatever the concurrency.
let agent: Agent | undefined
const sharedAgent = () => {
  agent ??= new Agent({ keepAlive: true, maxSockets: 32, scheduling: 'lifo' })
  return agent
}

/** 1 MiB: far above what a secret (64 KiB) or an advanced parameter can hold, with its envelope. */
const maxBody = 1 << 20

/** Node refuses such header values with an error of its own, which must never be reached. */
export const badHeaderValue = /[^\t\x20-\x7e\x80-\xff]/
let checkedToken: string | undefined

/** Removes the token from what an answer echoed, in every form a server might echo it. */
export const withoutToken = (text: string, token: string): string => {
  let out = text
  // Real session tokens are hundreds of characters; a form of 1-3 characters would garble every body.
  for (const form of new Set([token, encodeURIComponent(token), JSON.stringify(token).slice(1, -1)])) {
    if (form.length >= 4) out = out.split(form).join('[token]')
    // A body cut inside an echo: any 8 characters of the token are enough to drop that stretch.
    for (let i = 0; form.length > 8 && i + 8 <= form.length; i++)
      out = out.split(form.slice(i, i + 8)).join('[token]')
  }
  return out
}

const malformed = (reason: string): Failure => ({ code: 'MALFORMED_RESPONSE', reason })

/** One GET. Resolves with the 200 body or a final failure; rejects with `Again` when worth repeating. */
const attemptOnce = (connection: Connection, path: string, token: string, timeout: number) =>
  new Promise<{ body: Buffer } | { failure: Failure }>((resolve, reject) => {
    // Timed from the socket's assignment: a request queued in the agent has not reached the extension.
    let sent = performance.now()
    let answering = false
    let bytesBefore = 0
    const end = (outcome?: { body: Buffer } | { failure: Failure }, again?: Again) => {
      clearTimeout(timer)
      if (again) reject(again)
      else resolve(outcome!)
    }
    const req = request(
      {
        host: connection.host,
        port: connection.port,
        path,
        agent: sharedAgent(),
        headers: { 'X-Aws-Parameters-Secrets-Token': token },
      },
      (res) => {
        answering = true
        const chunks: Buffer[] = []
        let length = 0
        res.on('data', (chunk: Buffer) => {
          length += chunk.length
          if (length <= maxBody) return chunks.push(chunk)
          end({ failure: malformed(`the answer is over ${maxBody} bytes`) })
          req.destroy()
        })
        res.on('end', () => {
          try {
            end(
              answer(res.statusCode ?? 0, Buffer.concat(chunks), token, Math.round(performance.now() - sent)),
            )
          } catch (again) {
            end(undefined, again as Again)
          }
        })
        res.on('close', () => res.complete || end(undefined, new Again('cut')))
      },
    )
    // A 101 is no answer the extension gives; without this listener Node would hold the socket.
    req.on('upgrade', (_res, socket) => {
      socket.destroy()
      end({ failure: malformed('the answer was 101 Switching Protocols') })
    })
    const timer = setTimeout(() => {
      end(undefined, new Again('timeout'))
      req.destroy()
    }, timeout)
    // A kept-alive socket has read earlier answers: only bytes read for this request count.
    req.on('socket', (socket) => {
      bytesBefore = socket.bytesRead
      sent = performance.now()
    })
    req.on('error', (error: NodeJS.ErrnoException) => {
      const code = String(error.code)
      // Node's errors name the address and an errno, never the headers sent.
      if (code.startsWith('HPE_')) end({ failure: malformed(`the answer is not HTTP (${code})`) })
      // Bytes arrived but no whole answer: cut short, not an extension still starting.
      else if (answering || (req.socket?.bytesRead ?? 0) > bytesBefore) end(undefined, new Again('cut'))
      else if (code === 'ECONNREFUSED') end(undefined, new Again('refused'))
      else end(undefined, new Again(code === 'ECONNRESET' || code === 'EPIPE' ? 'reset' : 'other'))
    })
    req.end()
  })

/** What a whole answer means. Error bodies are cut to 200 characters on one line, token removed. */
const answer = (
  status: number,
  raw: Buffer,
  token: string,
  tookMs: number,
): { body: Buffer } | { failure: Failure } => {
  if (status === 200) return { body: raw }
  let body = withoutToken(raw.subarray(0, 4096).toString('utf8'), token).replace(/\s+/g, ' ').trim()
  if (body.length > 200) body = `${body.slice(0, 200)}…`
  // The layer's text is `not ready to serve traffic, please wait`.
  if (status === 400 && /not ready/i.test(body)) throw new Again('not-ready', status, body)
  if (status === 429 || (status >= 500 && status < 600)) throw new Again('status', status, body)
  const failure = (code: ExtensionSecretsErrorCode, reason: string) => ({
    failure: { code, reason, status, body },
  })
  if (status === 401 || status === 403)
    return failure('TOKEN_REJECTED', `the session token was refused (${status} "${body}")`)
  if (status >= 400 && status < 500) {
    // The agent's throttling is its upstream's 400 `ThrottlingException`: worth another attempt.
    if (isThrottled({ status, body })) throw new Again('status', status, body)
    // The Secrets Manager Agent names the upstream error (`{"__type":"ResourceNotFoundException",…}`);
    // the layer answers one generic 400 for every upstream failure, whose cause only its log shows.
    const type = /"__type"\s*:\s*"([\w.#]+)"/.exec(body)?.[1]
    if (type) return failure('UPSTREAM_ERROR', `upstream ${type} (${status})`)
    const throttled = tookMs >= throttledAfterMs
    const cause = throttled
      ? `after ${tookMs} ms: likely throttled upstream`
      : 'not found, denied or throttled upstream'
    return {
      failure: {
        code: 'UPSTREAM_ERROR',
        reason: `${status} "${body}": ${cause} (see the function's logs)`,
        status,
        body,
        ...(throttled ? { throttled } : {}),
      },
    }
  }
  // Any other status is not the extension's: its body might hold a value, and is never kept.
  return {
    failure: { ...malformed(`unexpected status ${status}`), status },
  }
}

/**
 * p-retry checks its options when it is called, so a bad value fails the first invocation, before any
 * attempt: its `TypeError` then says which option of ours held it.
 */
export const optionError = (error: unknown, option: string, attempts: number) =>
  attempts === 0 && error instanceof TypeError && !error.message.startsWith('middy-extension-secrets:')
    ? new TypeError(`middy-extension-secrets: \`${option}\`: ${error.message}`)
    : error

const acceptedAfterMs = 25

/** Waits `ms`, or until shortly before the deadline. */
const pause = (ms: number, deadline: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(ms, deadline - performance.now() - 1))))

/**
 * While an extension is not ready, one key probes it (with p-retry's backoff) and the others wait here
 * for it, so N keys do not poll N times; when it answers, every waiting key goes at once.
 */
const probes = new Map<string, Promise<void>>()

/**
 * GETs `path` until the extension answers something other than not ready, refused, reset, 429 or 5xx,
 * within p-retry's options and the invocation's deadline: `signal` for p-retry, `deadline` (a
 * `performance.now()` time) to cut the last attempt.
 */
export const getFromExtension = async (
  connection: Connection,
  path: string,
  signal?: AbortSignal,
  deadline = Number.POSITIVE_INFINITY,
): Promise<Answer> => {
  const started = performance.now()
  const { token } = connection
  const address = addressOf(connection.host, connection.port)
  let attempts = 0
  let last: Again | undefined
  let notReady = false
  let endProbe: (() => void) | undefined
  let expired: Promise<void> | undefined
  let busy = 0
  const release = () => {
    endProbe?.()
    endProbe = undefined
  }
  const settle = (outcome: { body: Buffer } | { failure: Failure }): Answer => ({
    ...outcome,
    attempts,
    elapsedMs: Math.round(performance.now() - started),
  })
  if (!token || (token !== checkedToken && badHeaderValue.test(token)))
    return settle({
      failure: {
        code: 'TOKEN_MISSING',
        reason: `${token ? 'AWS_SESSION_TOKEN is not a valid header value' : 'AWS_SESSION_TOKEN is not set and no `token` option was given'}; nothing was sent`,
      },
    })

  // A session token is about a kilobyte: checked once, not at every request.
  checkedToken = token
  let budgetTimer: NodeJS.Timeout | undefined

  const attempt = async () => {
    for (;;) {
      const probe = probes.get(address)
      // Waiting for another key's probe stands for retries: a key allowed none asks at once.
      if (probe !== undefined && endProbe === undefined && connection.retry.retries !== 0) {
        // This key's own bounds hold while it waits: its deadline, and its own p-retry budget.
        expired ??= new Promise((resolve) => {
          if (signal?.aborted) return resolve()
          signal?.addEventListener('abort', () => resolve(), { once: true })
          const budget =
            started + (connection.retry.maxRetryTime ?? Number.POSITIVE_INFINITY) - performance.now()
          if (Number.isFinite(budget)) budgetTimer = setTimeout(resolve, Math.max(0, budget))
        })
        await Promise.race([probe, expired])
        if (probes.get(address) === probe && last !== undefined) throw last
      }
      const sent = performance.now()
      const left = deadline - sent
      if (left < 1 || signal?.aborted) throw signal?.reason ?? new Again('timeout')
      attempts++
      // An extension that is not ready refuses or answers at once; a probe still waiting after this long
      // was accepted (a cache miss going upstream, or a hang): the others need not wait for its answer.
      const accepted = endProbe && setTimeout(release, acceptedAfterMs)
      try {
        return await attemptOnce(
          connection,
          path,
          token,
          Math.min(connection.requestTimeout, Math.ceil(left)),
        )
      } catch (error) {
        if (!(error instanceof Again)) throw error
        // An attempt the deadline cut short in its first moments says nothing about the extension.
        if (!(error.kind === 'timeout' && deadline - performance.now() < 1 && performance.now() - sent < 50))
          last = error
        if (error.kind === 'refused' || error.kind === 'reset' || error.kind === 'not-ready') {
          notReady ||= error.kind === 'not-ready'
          if (endProbe === undefined) {
            if (probes.has(address)) {
              if (connection.retry.retries !== 0) continue
              throw error
            }
            let open!: () => void
            probes.set(address, new Promise((resolve) => (open = resolve)))
            endProbe = () => {
              probes.delete(address)
              open()
            }
          }
        } else {
          release()
          // 429, 5xx and throttling are the upstream's trouble, not readiness: back off more each time,
          // so a key does not ask an overloaded service a hundred times a second.
          if (error.kind === 'status')
            await pause(Math.min(1_000, 25 * 2 ** busy++ * (1 + Math.random())), deadline)
        }
        throw error
      } finally {
        clearTimeout(accepted)
      }
    }
  }
  try {
    return settle(
      await (await loadRetry()).default(attempt, {
        ...connection.retry,
        signal,
        shouldRetry: ({ error }) => error instanceof Again,
      }),
    )
  } catch (error) {
    if (!(error instanceof Again) && !signal?.aborted) throw optionError(error, 'retry', attempts)
    return settle({
      failure: exhausted(last, notReady, attempts, performance.now() - started, address, connection.portFrom),
    })
  } finally {
    release()
    clearTimeout(budgetTimer)
  }
}

/** The wait ended: the code says what the attempts saw (see docs/errors.md). */
const exhausted = (
  last: Again | undefined,
  notReady: boolean,
  attempts: number,
  ms: number,
  address: string,
  portFrom: string,
): Failure => {
  const spent = `${attempts} attempt${attempts === 1 ? '' : 's'} in ${Math.round(ms)} ms`
  const answered = last?.status === undefined ? {} : { status: last.status, body: last.body! }
  if (last === undefined || last.kind === 'timeout')
    return { code: 'TIMEOUT', reason: `no answer from the extension at ${address} in time (${spent})` }
  if (notReady)
    return {
      code: 'EXTENSION_NOT_READY',
      reason: `the extension at ${address} was not ready (${spent})`,
      ...answered,
    }
  if (last.kind === 'status')
    return {
      code: 'UPSTREAM_ERROR',
      reason: `the extension kept answering ${last.status} "${last.body}" (${spent})`,
      ...answered,
    }
  if (last.kind === 'cut')
    return malformed(`the extension at ${address} kept closing the connection inside its answer (${spent})`)
  return {
    code: 'EXTENSION_UNREACHABLE',
    reason: `could not reach the extension at ${address} (port from ${portFrom}; ${spent}; last: connection ${last.kind}): is the layer attached?`,
  }
}

/**
 * The layer answers its generic 400 at once for a name that does not exist or access denied, which its
 * SDK does not retry; a throttled read it retries upstream twice, with backoffs of up to 2 and 4 s, so
 * that 400 comes late: after this long, about 16 times in 17. Long enough that a missing name's 400
 * queued behind other reads for the layer's three connections stays below it
 * (docs/decisions/0015-cold-start-storms.md; the layer's retries are stated by the protocol notes, not
 * shown by a capture).
 */
export const throttledAfterMs = 1_000
