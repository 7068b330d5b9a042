import type { Service } from './protocol.js'

export interface CacheSettings {
  enabled: boolean
  /** Entries, secrets and parameters together; 0 caches nothing. */
  size: number
  /** Per service, in ms; 0 caches nothing for that service. */
  ttlMs: Record<Service, number>
}

/**
 * The extension's in-memory cache of successful answers. It never refreshes before the TTL: after a
 * rotation, answers stay stale until they expire. Failures are never cached. When full, the oldest entry
 * makes room.
 */
export class ExtensionCache {
  readonly #settings: CacheSettings
  readonly #entries = new Map<string, { body: string; expiresAt: number }>()

  constructor(settings: CacheSettings) {
    this.#settings = settings
  }

  get(key: string, now: number): string | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (now < entry.expiresAt) return entry.body
    this.#entries.delete(key)
    return undefined
  }

  set(service: Service, key: string, body: string, now: number): void {
    const { enabled, size, ttlMs } = this.#settings
    if (!enabled || size === 0 || ttlMs[service] === 0) return
    this.#entries.delete(key)
    if (this.#entries.size >= size) {
      const oldest = this.#entries.keys().next()
      if (!oldest.done) this.#entries.delete(oldest.value)
    }
    this.#entries.set(key, { body, expiresAt: now + ttlMs[service] })
  }

  get size(): number {
    return this.#entries.size
  }

  clear(): void {
    this.#entries.clear()
  }
}
