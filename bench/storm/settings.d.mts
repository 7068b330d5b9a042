import type { Settings } from './scenario.js'

export declare const recommended: {
  coldStartRetry: { retries: number; minTimeout: number; maxTimeout: number }
  requestTimeout: number
}
export declare const middlewareOptions: (settings: Settings) => Record<string, unknown>
