import type { FaultRule } from '../src/emulator/index.js'
import type { ExtensionSecretsErrorCode } from '../src/index.js'
import { secretMarker } from './helpers.js'

// The one list of faults: test/fault-matrix.test.ts runs every row through a real middy() chain against
// the emulator, and docs/reliability.md shows the same rows (a test keeps the two equal).

export interface FaultCase {
  /** The fault, as docs/reliability.md names it. */
  fault: string
  /** What the emulator is told to do for the invocation under test. */
  faults: FaultRule[]
  /** `secret` reads `prod/plain`; `parameter` reads `/app/signing-key` (a SecureString). */
  source: 'secret' | 'parameter'
  /** The value arrives, or every key fails with this code. */
  outcome: 'value' | ExtensionSecretsErrorCode
  /** `one`: the answer is final and is not asked again; `several`: retried within the budget. */
  requests: 'one' | 'several'
  /** An invocation with no session token: nothing is sent. */
  noToken?: true
  /** A name the emulator does not know, in place of the usual one. */
  name?: string
  /** The `requestTimeout` option, when not the default 5 s: each attempt is cut after this. */
  requestTimeout?: number
}

const always = (rule: FaultRule): FaultRule[] => [rule]
const once = (rule: FaultRule): FaultRule[] => [{ ...rule, times: 1 } as FaultRule]
const answer = (status: number, body = ''): Extract<FaultRule, { action: 'respond' }> => ({
  action: 'respond',
  status,
  body,
})
/** A 200 whose body is not the layer's shape; it quotes the marker, which must never be echoed. */
const wrongShape = (body: unknown): FaultRule[] => always(answer(200, JSON.stringify(body)))

const secret = (
  fault: string,
  faults: FaultRule[],
  outcome: FaultCase['outcome'],
  requests: 'one' | 'several',
) => ({ fault, faults, source: 'secret', outcome, requests }) satisfies FaultCase
const parameter = (
  fault: string,
  faults: FaultRule[],
  outcome: FaultCase['outcome'],
  requests: 'one' | 'several',
) => ({ fault, faults, source: 'parameter', outcome, requests }) satisfies FaultCase

export const faultMatrix: readonly FaultCase[] = [
  secret('no fault', [], 'value', 'one'),
  secret(
    'not listening (connections refused throughout)',
    always({ action: 'refuse' }),
    'EXTENSION_UNREACHABLE',
    'several',
  ),
  secret('refused for 150 ms, then listening', [{ action: 'refuse', forMs: 150 }], 'value', 'several'),
  secret('reset on the first request', once({ action: 'reset' }), 'value', 'several'),
  secret('reset on every request', always({ action: 'reset' }), 'EXTENSION_UNREACHABLE', 'several'),
  secret('reset mid-body, once', once({ action: 'reset-mid-body' }), 'value', 'several'),
  secret(
    'reset mid-body, every request',
    always({ action: 'reset-mid-body' }),
    'MALFORMED_RESPONSE',
    'several',
  ),
  secret(
    'truncated body (clean close before Content-Length), once',
    once({ action: 'truncate' }),
    'value',
    'several',
  ),
  secret('truncated body, every request', always({ action: 'truncate' }), 'MALFORMED_RESPONSE', 'several'),
  secret('keep-alive socket closed after every answer', always({ action: 'close-after' }), 'value', 'one'),
  secret('not ready for 3 requests', [{ action: 'not-ready', times: 3 }], 'value', 'several'),
  secret('not ready for 150 ms', [{ action: 'not-ready', forMs: 150 }], 'value', 'several'),
  secret('never ready', always({ action: 'not-ready' }), 'EXTENSION_NOT_READY', 'several'),
  secret(
    'generic upstream 400',
    always(answer(400, 'an unexpected error occurred while executing request')),
    'UPSTREAM_ERROR',
    'one',
  ),
  { ...secret("unknown secret (the layer's own 400)", [], 'UPSTREAM_ERROR', 'one'), name: 'prod/missing' },
  secret(
    "401 Bad session token or header key (the layer's)",
    always(answer(401, 'Bad session token or header key')),
    'TOKEN_REJECTED',
    'one',
  ),
  secret("403 Bad Token (the agent's)", always(answer(403, 'Bad Token')), 'TOKEN_REJECTED', 'one'),
  secret('404', always(answer(404, 'Not found')), 'UPSTREAM_ERROR', 'one'),
  secret('405', always(answer(405, 'Not allowed')), 'UPSTREAM_ERROR', 'one'),
  secret(
    '429 twice, then served',
    [{ ...answer(429, 'Connection limit exceeded'), times: 2 }],
    'value',
    'several',
  ),
  secret('429 throughout', always(answer(429, 'Connection limit exceeded')), 'UPSTREAM_ERROR', 'several'),
  secret('500 throughout', always(answer(500, 'Internal Server Error')), 'UPSTREAM_ERROR', 'several'),
  secret('502 throughout', always(answer(502, 'Bad Gateway')), 'UPSTREAM_ERROR', 'several'),
  secret('503 once, then served', once(answer(503, 'busy')), 'value', 'several'),
  secret('503 throughout', always(answer(503, 'Service Unavailable')), 'UPSTREAM_ERROR', 'several'),
  secret('504 throughout', always(answer(504, 'Gateway Timeout')), 'UPSTREAM_ERROR', 'several'),
  secret(
    '302 redirect (not followed)',
    always(answer(302, 'http://169.254.169.254/')),
    'MALFORMED_RESPONSE',
    'one',
  ),
  secret('204 no content', always(answer(204)), 'MALFORMED_RESPONSE', 'one'),
  {
    ...secret('hang (no answer), requestTimeout 100 ms', always({ action: 'hang' }), 'TIMEOUT', 'several'),
    requestTimeout: 100,
  },
  secret('slow answer (200 ms, within the budget)', always({ action: 'delay', ms: 200 }), 'value', 'one'),
  {
    ...secret(
      'answers slower than the whole budget (2 s), requestTimeout 100 ms',
      always({ action: 'delay', ms: 2_000 }),
      'TIMEOUT',
      'several',
    ),
    requestTimeout: 100,
  },
  secret('200 with an empty body', always(answer(200)), 'MALFORMED_RESPONSE', 'one'),
  secret(
    '200 with malformed JSON',
    always(answer(200, `{"SecretString":"${secretMarker}-in-broken-json"`)),
    'MALFORMED_RESPONSE',
    'one',
  ),
  secret('200 with JSON null', wrongShape(null), 'MALFORMED_RESPONSE', 'one'),
  secret('200 with a JSON array', wrongShape([`${secretMarker}-in-array`]), 'MALFORMED_RESPONSE', 'one'),
  secret(
    '200 with SecretString and SecretBinary both null',
    wrongShape({ Name: `${secretMarker}-name`, SecretString: null, SecretBinary: null }),
    'MALFORMED_RESPONSE',
    'one',
  ),
  secret(
    '200 with SecretString a number',
    wrongShape({ SecretString: 12_345_678_901_234 }),
    'MALFORMED_RESPONSE',
    'one',
  ),
  secret(
    '200 with SecretBinary not base64',
    wrongShape({ SecretString: null, SecretBinary: `${secretMarker}!!` }),
    'MALFORMED_RESPONSE',
    'one',
  ),
  secret(
    '200 with a 2 MiB body (over the 1 MiB cap)',
    always(answer(200, JSON.stringify({ SecretString: `${secretMarker}-${'x'.repeat(2 * 1024 * 1024)}` }))),
    'MALFORMED_RESPONSE',
    'one',
  ),
  parameter('no fault (SecureString parameter)', [], 'value', 'one'),
  parameter(
    '200 with no Parameter',
    wrongShape({ ResultMetadata: {}, Value: `${secretMarker}-misplaced` }),
    'MALFORMED_RESPONSE',
    'one',
  ),
  parameter(
    '200 with Parameter.Value null',
    wrongShape({ Parameter: { Name: '/app/signing-key', Type: 'SecureString', Value: null } }),
    'MALFORMED_RESPONSE',
    'one',
  ),
  parameter(
    '200 with Parameter.SourceResult not JSON',
    wrongShape({ Parameter: { Type: 'SecureString', Value: null, SourceResult: `{${secretMarker}` } }),
    'MALFORMED_RESPONSE',
    'one',
  ),
  {
    fault: 'no session token',
    faults: [],
    source: 'secret',
    outcome: 'TOKEN_MISSING',
    requests: 'one',
    noToken: true,
  },
]

/** The table docs/reliability.md shows between its fault-matrix markers. */
export const faultTable = (): string => {
  const rows = faultMatrix.map((row) => {
    const script = row.faults.length === 0 ? '—' : row.faults.map((rule) => describeRule(rule)).join(', ')
    const outcome = row.outcome === 'value' ? 'the value' : `\`${row.outcome}\``
    const requests = row.noToken
      ? 'none'
      : row.requests === 'one'
        ? 'one per invocation'
        : 'retried within the budget'
    return `| ${row.fault} | ${row.source} | ${script} | ${outcome} | ${requests} |`
  })
  return [
    '| fault | source | emulator script | outcome | requests |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n')
}

const describeRule = (rule: FaultRule): string => {
  const parts: string[] = [rule.action]
  if (rule.action === 'respond') parts.push(String(rule.status))
  if (rule.action === 'delay') parts.push(`${rule.ms} ms`)
  if (rule.times !== undefined) parts.push(`×${rule.times}`)
  if (rule.forMs !== undefined) parts.push(`for ${rule.forMs} ms`)
  return `\`${parts.join(' ')}\``
}
