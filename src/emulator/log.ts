import type { LogLevel } from './settings.js'

/** The prefix of every line the layer writes to the function's log group (seen in captures). */
export const logPrefix = '[AWS Parameters and Secrets Lambda Extension]'

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, none: 4 }

export type LogLine = (level: Exclude<LogLevel, 'none'>, message: string) => void

/** Lines in the layer's style, `PREFIX LEVEL message`, for the levels at or above `threshold`. */
export function logger(threshold: LogLevel, write: ((line: string) => void) | undefined): LogLine {
  if (write === undefined || threshold === 'none') return () => {}
  return (level, message) => {
    if (rank[level] >= rank[threshold]) write(`${logPrefix} ${level.toUpperCase()} ${message}`)
  }
}

/**
 * A name or selector as it may appear in a line: quoted, with control characters escaped, so that a
 * name with a newline cannot forge a second line.
 */
export const quoted = (text: string): string => JSON.stringify(text)
