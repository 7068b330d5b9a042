import type { Settings } from './scenario.js'

export declare const recommendedColdStartRetry: { retries: number; minTimeout: number; maxTimeout: number }
export declare const middlewareOptions: (settings: Settings) => Record<string, unknown>
