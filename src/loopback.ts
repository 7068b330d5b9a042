import { isIP } from 'node:net'

/**
 * The one rule for where the session token may go, shared by the middleware and the emulator: an IP
 * literal that Node itself reads as an address (so no DNS lookup can happen) and that is loopback,
 * `127.0.0.0/8` or `::1`. `localhost`, `127.1` or `127.0.0.08` are names to Node, resolved by whatever
 * the system says. See docs/decisions/0010-loopback-only.md.
 */
export const isLoopbackAddress = (host: string): boolean =>
  // The default first: Node's isIP compiles its address patterns on first use, a fifth of a
  // millisecond of every cold start.
  host === '127.0.0.1' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'))

/** `host:port`, bracketing an IPv6 address, for URLs and messages. */
export const addressOf = (host: string, port: number): string =>
  `${host.includes(':') ? `[${host}]` : host}:${port}`
