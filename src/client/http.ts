import { Agent, request } from 'node:http'

/**
 * Why one HTTP attempt produced no answer. All of these are worth another attempt. `cut`: the answer
 * began but the connection ended before its body was complete, so the extension was reached.
 */
export type ConnectionFailureKind = 'refused' | 'reset' | 'timeout' | 'connection' | 'cut'

export class ConnectionFailure extends Error {
  override readonly name = 'ConnectionFailure'
  constructor(
    readonly kind: ConnectionFailureKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/** A body over the cap: the answer is not what the extension sends, and reading on wastes memory. */
export class BodyTooLarge extends Error {
  override readonly name = 'BodyTooLarge'
}

export interface HttpAnswer {
  status: number
  body: Buffer
}

export interface HttpAttempt {
  host: string
  port: number
  path: string
  token: string
  timeoutMs: number
  maxBodyBytes: number
}

// One keep-alive agent for the process, made on first use so importing the package opens nothing.
// Reusing sockets saves a TCP handshake per value on warm invocations. The socket cap bounds the
// requests in flight to the extension whatever the number of concurrent invocations.
let sharedAgent: Agent | undefined
const agent = (): Agent => {
  sharedAgent ??= new Agent({ keepAlive: true, maxSockets: 32, maxFreeSockets: 32, scheduling: 'lifo' })
  return sharedAgent
}

export const tokenHeader = 'X-Aws-Parameters-Secrets-Token'

// Node rejects these in header values, with an error of its own; checking first keeps the token out of
// every error path and makes header injection impossible.
const invalidHeaderChar = /[^\t\x20-\x7e\x80-\xff]/

export const isValidHeaderValue = (value: string): boolean => !invalidHeaderChar.test(value)

const failureKind = (code: unknown): ConnectionFailureKind => {
  if (code === 'ECONNREFUSED') return 'refused'
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'reset'
  return 'connection'
}

/** One GET to the extension on loopback. Resolves with any HTTP answer; rejects only when none came. */
export const getOnce = (attempt: HttpAttempt): Promise<HttpAnswer> =>
  new Promise((resolve, reject) => {
    let settled = false
    // Once the status line has arrived, a failure cuts an answer short rather than missing the extension.
    let answering = false
    const finish = (error: Error | undefined, answer?: HttpAnswer) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (error) reject(error)
      else resolve(answer!)
    }

    const req = request(
      {
        host: attempt.host,
        port: attempt.port,
        path: attempt.path,
        method: 'GET',
        agent: agent(),
        headers: { [tokenHeader]: attempt.token },
      },
      (res) => {
        answering = true
        const chunks: Buffer[] = []
        let length = 0
        res.on('data', (chunk: Buffer) => {
          length += chunk.length
          if (length > attempt.maxBodyBytes) {
            finish(new BodyTooLarge(`response body over ${attempt.maxBodyBytes} bytes`))
            req.destroy()
            return
          }
          chunks.push(chunk)
        })
        res.on('end', () =>
          finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks, length) }),
        )
        res.on('error', (error: NodeJS.ErrnoException) =>
          finish(
            new ConnectionFailure('cut', 'connection closed while reading the answer', { cause: error }),
          ),
        )
        // A connection closed mid-body ends the response without 'end' on some Node versions.
        res.on('close', () => {
          if (!res.complete)
            finish(new ConnectionFailure('cut', 'connection closed while reading the answer'))
        })
      },
    )
    const timer = setTimeout(() => {
      finish(new ConnectionFailure('timeout', `no answer within ${attempt.timeoutMs} ms`))
      req.destroy()
    }, attempt.timeoutMs)
    req.on('error', (error: NodeJS.ErrnoException) => {
      // Node's socket errors name the address and the errno, never the headers sent.
      finish(
        new ConnectionFailure(
          answering ? 'cut' : failureKind(error.code),
          `${error.code ?? 'connection error'}`,
          {
            cause: error,
          },
        ),
      )
    })
    req.end()
  })
