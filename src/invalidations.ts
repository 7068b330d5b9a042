import type { SourceRef } from './client/source-ref.js'
import type { ResolvedEntry } from './fetch-data.js'
import { type BypassExtensionCache, isBypassable } from './freshness.js'

/**
 * What `invalidate()` and `refreshOn` asked for, per key (by index in `entries`): that the next event
 * report the fetch as `invalidated`, and, with `bypassExtensionCache`, which request gets past the
 * extension's own cache. The cached values themselves are dropped by the loader.
 */
export const createInvalidations = (
  entries: readonly ResolvedEntry[],
  bypass: BypassExtensionCache | undefined,
) => {
  /** Keys invalidated since their last fetch began. */
  const pending = new Set<number>()
  /** `versionStage`: keys asked for with an explicit AWSCURRENT from their first invalidation on. */
  const explicitStage = new Set<number>()
  /** `refreshNow`: keys whose next successful fetch must bypass the agent's cache. */
  const refreshNow = new Set<number>()
  /** Invalidations per key, so a fetch that began before the latest one does not clear its bypass. */
  const generations = new Array<number>(entries.length).fill(0)

  return {
    /** Records an invalidation of `index`. */
    mark(index: number): void {
      pending.add(index)
      generations[index]!++
      if (bypass === undefined || !isBypassable(entries[index]!.ref)) return
      if (bypass === 'versionStage') explicitStage.add(index)
      else refreshNow.add(index)
    },

    isPending: (index: number): boolean => pending.has(index),

    /**
     * A fetch of `index` begins: the request to send, and, when it bypasses the agent's cache once, what
     * to call when it succeeds (the bypass stays for a later invalidation made meanwhile).
     */
    begin(index: number): { ref: SourceRef; succeeded?: () => void } {
      pending.delete(index)
      const ref = entries[index]!.ref
      if (explicitStage.has(index)) return { ref: { ...ref, versionStage: 'AWSCURRENT' } as SourceRef }
      if (!refreshNow.has(index)) return { ref }
      const generation = generations[index]
      return {
        ref: { ...ref, refreshNow: true } as SourceRef,
        succeeded: () => {
          if (generations[index] === generation) refreshNow.delete(index)
        },
      }
    },
  }
}
