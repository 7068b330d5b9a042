import { Agent, request } from 'node:http'
import pRetry, { type Options as RetryOptions } from 'p-retry'
import type { ExtensionSecretsErrorCode } from './errors.js'
import { addressOf } from './loopback.js'

// The extension's protocol, knowing nothing of Middy or fetchData keys: one GET on loopback, retried
// while the extension is not ready, answered with the 200 body or a classified failure. See
// docs/errors.md for what each answer means.

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
  if (source.service === 'secret') {
    return `/secretsmanager/get?secretId=${encodeURIComponent(source.name)}${query('versionId', source.versionId)}${query('versionStage', source.versionStage)}${refreshNow ? '&refreshNow=true' : ''}`
  }
  return `/systemsmanager/parameters/get?name=${encodeURIComponent(source.name)}${query('version', source.version)}${query('label', source.label)}${source.decrypt === false ? '' : '&withDecryption=true'}`
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
}

export type Answer = ({ body: Buffer } | { failure: Failure }) & { attempts: number; elapsedMs: number }

/** One attempt's outcome. `wait`: the extension is not serving yet; `again`: worth another attempt. */
type Outcome =
  | { status: 200; body: Buffer }
  | { retry: 'wait' | 'again'; why: string; status?: number; body?: string }
  | { failure: Failure }

/** Thrown to p-retry for an attempt worth repeating. */
class Again extends Error {}

// One keep-alive agent for the process, made on first use: reusing sockets saves a handshake per value
// on warm invocations, and the socket cap bounds the requests in flight whatever the concurrency.
let agent: Agent | undefined
const sharedAgent = () => {
  agent ??= new Agent({ keepAlive: true, maxSockets: 32, scheduling: 'lifo' })
  return agent
}

/** 1 MiB: far above what a secret (64 KiB) or an advanced parameter can hold, with its envelope. */
const maxBody = 1 << 20

/**
 * While an extension is not ready, one key probes it (with p-retry's backoff) and the others wait here
 * for it, so N keys do not poll N times; when it answers, every waiting key goes at once.
 */
const probes = new Map<string, Promise<void>>()

/** Removes the token from what an answer echoed, in every form a server might echo it. */
export const withoutToken = (text: string, token: string): string => {
  let out = text
  // Real session tokens are hundreds of characters; a form of 1-3 characters would garble every body.
  for (const form of new Set([token, encodeURIComponent(token), JSON.stringify(token).slice(1, -1)])) {
    if (form.length >= 4) out = out.split(form).join('[token]')
    // A body cut inside an echo: any 8 characters of the token are enough to drop that stretch.
    for (let i = 0; form.length > 8 && i + 8 <= form.length; i++) {
      const part = form.slice(i, i + 8)
      if (out.includes(part)) out = out.split(part).join('[token]')
    }
  }
  return out
}

/** Keeps no more of an error body than diagnosis needs: 200 characters, one line, no token. */
const excerpt = (body: Buffer, token: string): string => {
  const text = withoutToken(body.subarray(0, 4096).toString('utf8'), token).replace(/\s+/g, ' ').trim()
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}

const attemptOnce = (
  address: { host: string; port: number },
  path: string,
  token: string,
  timeout: number,
  signal: AbortSignal | undefined,
) =>
  new Promise<Outcome>((resolve) => {
    let answering = false
    const done = (outcome: Outcome) => {
      clearTimeout(timer)
      resolve(outcome)
      req.destroy()
    }
    const req = request(
      {
        ...address,
        path,
        agent: sharedAgent(),
        headers: { 'X-Aws-Parameters-Secrets-Token': token },
        signal,
      },
      (res) => {
        answering = true
        const chunks: Buffer[] = []
        let length = 0
        res.on('data', (chunk: Buffer) => {
          length += chunk.length
          if (length > maxBody)
            done({ failure: { code: 'MALFORMED_RESPONSE', reason: `the answer is over ${maxBody} bytes` } })
          else chunks.push(chunk)
        })
        res.on('end', () => {
          const status = res.statusCode ?? 0
          const body = Buffer.concat(chunks)
          clearTimeout(timer)
          resolve(status === 200 ? { status, body } : refusal(status, body, token))
        })
        res.on('close', () => {
          if (!res.complete) done({ retry: 'again', why: 'the connection closed inside the answer' })
        })
      },
    )
    // A 101 is no answer the extension gives; without this listener Node would hold the socket.
    req.on('upgrade', (_res, socket) => {
      socket.destroy()
      done({
        failure: {
          code: 'MALFORMED_RESPONSE',
          reason: 'the answer was 101 Switching Protocols, not HTTP from the extension',
        },
      })
    })
    const timer = setTimeout(() => done({ retry: 'again', why: `no answer within ${timeout} ms` }), timeout)
    req.on('error', (error: NodeJS.ErrnoException) => {
      const code = String(error.code)
      // Node's errors name the address and an errno, never the headers sent.
      if (code.startsWith('HPE_'))
        done({
          failure: {
            code: 'MALFORMED_RESPONSE',
            reason: `the answer is not HTTP that Node can read (${code})`,
          },
        })
      else if (code === 'ABORT_ERR') done({ retry: 'again', why: 'the deadline passed' })
      // Bytes arrived but no head could be read: an answer cut short, not an extension still starting.
      else if (answering || (req.socket?.bytesRead ?? 0) > bytesBefore)
        done({ retry: 'again', why: `the connection failed inside the answer (${code})` })
      else if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE')
        done({ retry: 'wait', why: code === 'ECONNREFUSED' ? 'connection refused' : 'connection reset' })
      else done({ retry: 'again', why: `connection failed (${code})` })
    })
    // A kept-alive socket has read earlier answers: only bytes read for this request count.
    let bytesBefore = 0
    req.on('socket', (socket) => {
      bytesBefore = socket.bytesRead
    })
    req.end()
  })

const refusal = (status: number, raw: Buffer, token: string): Outcome => {
  const body = excerpt(raw, token)
  // The layer's text is `not ready to serve traffic, please wait`.
  if (status === 400 && /not ready/i.test(body)) return { retry: 'wait', why: 'not ready', status, body }
  if (status === 429 || (status >= 500 && status < 600))
    return { retry: 'again', why: `${status}`, status, body }
  if (status === 401 || status === 403)
    return {
      failure: {
        code: 'TOKEN_REJECTED',
        reason: `the extension refused the session token (${status} "${body}")`,
        status,
        body,
      },
    }
  if (status >= 400 && status < 500) {
    // The Secrets Manager Agent names the upstream error (`{"__type":"ResourceNotFoundException",…}`);
    // the layer answers one generic 400 for every upstream failure.
    const type = /"__type"\s*:\s*"([A-Za-z.#]+)"/.exec(body)?.[1]
    return {
      failure: {
        code: 'UPSTREAM_ERROR',
        reason:
          type === undefined
            ? `the extension answered ${status} "${body}" (not found, denied or throttled upstream: see the function's logs)`
            : `upstream ${type} (${status})`,
        status,
        body,
      },
    }
  }
  // A 2xx other than 200 might hold a value: its body is never kept.
  return {
    failure: { code: 'MALFORMED_RESPONSE', reason: `the extension answered with status ${status}`, status },
  }
}

const aborted = (signal: AbortSignal | undefined) =>
  new Promise<never>((_, reject) => {
    if (signal === undefined) return
    if (signal.aborted) reject(signal.reason)
    signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })

/**
 * GETs `path` until the extension answers something other than "not ready", refused, reset, a 429 or a
 * 5xx, within p-retry's options and `signal` (the invocation's deadline).
 */
export const getFromExtension = async (
  connection: Connection,
  path: string,
  signal?: AbortSignal,
): Promise<Answer> => {
  const started = performance.now()
  const { host, port, token } = connection
  const address = addressOf(host, port)
  let attempts = 0
  let last: Extract<Outcome, { retry: unknown }> | undefined
  let notReady = false
  let endProbe: (() => void) | undefined
  const answer = (outcome: { body: Buffer } | { failure: Failure }): Answer => ({
    ...outcome,
    attempts,
    elapsedMs: Math.round(performance.now() - started),
  })
  if (!token) {
    return answer({
      failure: {
        code: 'TOKEN_MISSING',
        reason: 'AWS_SESSION_TOKEN is not set and no `token` option was given; nothing was sent',
      },
    })
  }
  // Node would throw a TypeError of its own for such a header value; the option is checked at creation,
  // the variable only here.
  if (/[^\t\x20-\x7e\x80-\xff]/.test(token)) {
    return answer({
      failure: {
        code: 'TOKEN_MISSING',
        reason: 'the session token has characters not allowed in an HTTP header; nothing was sent',
      },
    })
  }
  let deadline: Promise<never> | undefined
  const attempt = async (): Promise<{ body: Buffer } | { failure: Failure }> => {
    for (;;) {
      const probe = probes.get(address)
      if (probe !== undefined && endProbe === undefined) {
        deadline ??= aborted(signal)
        await Promise.race([probe, deadline])
      }
      attempts++
      const outcome = await attemptOnce({ host, port }, path, token, connection.requestTimeout, signal)
      if (signal?.aborted) throw signal.reason
      if ('failure' in outcome) return outcome
      if (!('retry' in outcome)) return { body: outcome.body }
      if (outcome.why !== 'the deadline passed') last = outcome
      if (outcome.retry === 'wait') {
        notReady ||= outcome.why === 'not ready'
        if (endProbe === undefined) {
          if (probes.has(address)) continue
          let open!: () => void
          probes.set(address, new Promise((resolve) => (open = resolve)))
          endProbe = () => {
            probes.delete(address)
            open()
          }
        }
      } else {
        endProbe?.()
        endProbe = undefined
      }
      throw new Again(outcome.why)
    }
  }
  try {
    const outcome = await pRetry(attempt, {
      ...connection.retry,
      signal,
      shouldRetry: ({ error }) => error instanceof Again,
    })
    return answer(outcome)
  } catch (error) {
    if (!(error instanceof Again) && !signal?.aborted) throw error
    return answer({
      failure: exhausted(last, notReady, attempts, performance.now() - started, address, connection.portFrom),
    })
  } finally {
    endProbe?.()
  }
}

/** The wait ended: the code says what the attempts saw (see docs/errors.md). */
const exhausted = (
  last: Extract<Outcome, { retry: unknown }> | undefined,
  notReady: boolean,
  attempts: number,
  elapsedMs: number,
  address: string,
  portFrom: string,
): Failure => {
  const spent = `${attempts} attempt${attempts === 1 ? '' : 's'} in ${Math.round(elapsedMs)} ms`
  const status = last?.status === undefined ? {} : { status: last.status, body: last.body! }
  if (attempts === 0 || last === undefined || last.why.startsWith('no answer'))
    return { code: 'TIMEOUT', reason: `no answer from the extension at ${address} in time (${spent})` }
  if (notReady)
    return {
      code: 'EXTENSION_NOT_READY',
      reason: `the extension at ${address} was still not ready (${spent})`,
      ...status,
    }
  if (last.status !== undefined)
    return {
      code: 'UPSTREAM_ERROR',
      reason: `the extension kept answering ${last.status} "${last.body}" (${spent})`,
      ...status,
    }
  if (last.why.includes('inside the answer'))
    return {
      code: 'MALFORMED_RESPONSE',
      reason: `the extension at ${address} kept closing the connection inside its answer (${spent})`,
    }
  return {
    code: 'EXTENSION_UNREACHABLE',
    reason: `could not reach the extension at ${address} (port from ${portFrom}; ${spent}; last: ${last.why}): is the layer attached?`,
  }
}
