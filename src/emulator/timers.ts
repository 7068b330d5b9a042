/**
 * Every timer the emulator starts, so that `close()` can clear them all: a request waiting on one then
 * never resumes, and its connection is destroyed with the others.
 */
export class Timers {
  readonly #pending = new Set<NodeJS.Timeout>()

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve))
  }

  after(ms: number, run: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.#pending.delete(timer)
      run()
    }, ms)
    this.#pending.add(timer)
    return timer
  }

  cancel(timer: NodeJS.Timeout): void {
    clearTimeout(timer)
    this.#pending.delete(timer)
  }

  clearAll(): void {
    for (const timer of this.#pending) clearTimeout(timer)
    this.#pending.clear()
  }
}
