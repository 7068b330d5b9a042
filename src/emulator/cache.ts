// The layer keeps at most this many answers (PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE defaults to it).
const layerCacheSize = 1000

/**
 * The layer's in-memory cache of successful answers, keyed by the request's path and query as sent.
 * It never refreshes before the TTL: after a rotation, answers stay stale until they expire.
 */
export class LayerCache {
  readonly #ttlMs: number
  readonly #entries = new Map<string, { body: string; expiresAt: number }>()

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs
  }

  get(key: string, now: number): string | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (now < entry.expiresAt) return entry.body
    this.#entries.delete(key)
    return undefined
  }

  set(key: string, body: string, now: number): void {
    if (this.#ttlMs === 0) return
    this.#entries.delete(key)
    if (this.#entries.size >= layerCacheSize) {
      const oldest = this.#entries.keys().next()
      if (!oldest.done) this.#entries.delete(oldest.value)
    }
    this.#entries.set(key, { body, expiresAt: now + this.#ttlMs })
  }

  clear(): void {
    this.#entries.clear()
  }
}
