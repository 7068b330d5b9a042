import type { Server } from 'node:http'

// A port closed a moment ago may not be free yet; listening again is retried at this pace.
const relistenRetryMs = 10

/**
 * Opens and closes the server's listening socket on one port, so that a refuse window gives clients a
 * real ECONNREFUSED and the same port serves again after it.
 */
export class Listener {
  readonly #server: Server
  readonly #host: string
  #port: number
  #refusing = false
  #closed = false
  #transition: Promise<void> | undefined
  #retry: NodeJS.Timeout | undefined

  constructor(server: Server, host: string, port: number) {
    this.#server = server
    this.#host = host
    this.#port = port
  }

  get port(): number {
    return this.#port
  }

  get refusing(): boolean {
    return this.#refusing
  }

  /** Binds once to learn the port; refusing windows apply only after. */
  async open(): Promise<number> {
    await listen(this.#server, this.#port, this.#host)
    const address = this.#server.address()
    if (address !== null && typeof address === 'object') this.#port = address.port
    return this.#port
  }

  setRefusing(refusing: boolean): void {
    this.#refusing = refusing
    this.#reconcile()
  }

  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#retry)
    await this.#transition
    if (this.#server.listening) this.#server.close()
  }

  #reconcile(): void {
    if (this.#transition !== undefined || this.#closed) return
    const server = this.#server
    if (this.#refusing && server.listening) {
      server.close()
      // Keep-alive sockets would otherwise still reach a layer that is meant to be gone.
      server.closeIdleConnections()
    } else if (!this.#refusing && !server.listening) {
      clearTimeout(this.#retry)
      this.#transition = listen(server, this.#port, this.#host).then(
        () => {
          this.#transition = undefined
          this.#reconcile()
        },
        () => {
          this.#transition = undefined
          if (!this.#closed) this.#retry = setTimeout(() => this.#reconcile(), relistenRetryMs)
        },
      )
    }
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening)
      reject(error)
    }
    const onListening = () => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}
