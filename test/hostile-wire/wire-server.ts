import { createServer, type Socket } from 'node:net'

// A fake extension speaking raw TCP, not HTTP: every byte it sends is scripted, so answers no HTTP
// server would produce (partial heads, banners, lying lengths, chunk tricks, echoes, drips, resets)
// reach the client exactly as written.

/** One step of an answer: bytes to write, a pause, or how the connection ends. */
export type Step =
  | { write: string | Buffer }
  | { wait: number }
  /** RST: the client sees ECONNRESET. */
  | { reset: true }
  /** FIN after what was written. */
  | { end: true }
  /** Nothing more, until the server closes. */
  | { hang: true }

export interface WireRequest {
  /** The request head as received, token included (for echoes). */
  head: string
  /** The request line's target. */
  path: string
  /** 0 for the first request the server received. */
  index: number
}

export interface WireScript {
  /** Written as soon as a connection is accepted, before any request (a banner). */
  onConnect?: Step[]
  /** The answer to each request. */
  answer?: (request: WireRequest) => Step[]
}

export interface WireServer {
  port: number
  /** Every request head received, in order. */
  heads: string[]
  /** Connections accepted. */
  connections: number
  close(): Promise<void>
}

export const startWireServer = async (script: WireScript): Promise<WireServer> => {
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const heads: string[] = []
  let closed = false
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        resolve()
      }, ms)
      timers.add(timer)
    })

  /** Runs steps in order; false when the connection is over (ended, reset, hanging or gone). */
  const play = async (socket: Socket, steps: Step[]): Promise<boolean> => {
    for (const step of steps) {
      if (closed || socket.destroyed) return false
      if ('write' in step) socket.write(step.write)
      else if ('wait' in step) await pause(step.wait)
      else if ('reset' in step) {
        socket.resetAndDestroy()
        return false
      } else if ('end' in step) {
        socket.end()
        return false
      } else return false
    }
    return !socket.destroyed
  }

  const server = createServer((socket) => {
    sockets.add(socket)
    wire.connections++
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    let buffered = Buffer.alloc(0)
    let busy: Promise<boolean> = script.onConnect ? play(socket, script.onConnect) : Promise.resolve(true)
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n')
        if (end === -1) return
        const head = buffered.subarray(0, end + 4).toString('latin1')
        buffered = buffered.subarray(end + 4)
        const index = heads.push(head) - 1
        const path = head.split(' ')[1] ?? ''
        // Requests on one keep-alive socket are answered in turn.
        busy = busy.then((open) =>
          open && script.answer ? play(socket, script.answer({ head, path, index })) : false,
        )
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const wire: WireServer = {
    port: (server.address() as { port: number }).port,
    heads,
    connections: 0,
    close: async () => {
      closed = true
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
  return wire
}

/** An HTTP/1.1 answer with a correct Content-Length. */
export const http = (status: number, body: string | Buffer, headers: string[] = []): Step[] => {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body)
  return [
    {
      write: Buffer.concat([
        Buffer.from(
          `HTTP/1.1 ${status} X\r\n${[...headers, `Content-Length: ${bytes.length}`].map((line) => `${line}\r\n`).join('')}\r\n`,
        ),
        bytes,
      ]),
    },
  ]
}
