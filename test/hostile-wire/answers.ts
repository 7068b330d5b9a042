import fc from 'fast-check'
import type { Step, WireRequest } from './wire-server.js'

// Answers of a hostile extension, as byte scripts: the named cases the suite runs one by one, and the
// generator the property runs. docs can list `nonHttpCases`, `cutCases` and `hostileWireRuns`.

export const secretValue = 'WIRE-SECRET-5e1f-value'
export const validBody = JSON.stringify({ Name: 'prod/plain', SecretString: secretValue, SecretBinary: null })

/** How many generated answers the property tries in `npm test`. */
export const hostileWireRuns = 100

const head = (status: number, lines: string[]) =>
  `HTTP/1.1 ${status} X\r\n${lines.map((line) => `${line}\r\n`).join('')}\r\n`

/** Answers that are not HTTP Node can read as an extension's: MALFORMED_RESPONSE at the first attempt. */
export const nonHttpCases: { name: string; onConnect?: Step[]; answer?: Step[] }[] = [
  {
    name: 'an SSH banner on connect',
    onConnect: [{ write: 'SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5\r\n' }],
  },
  { name: 'an SSH banner as the answer', answer: [{ write: 'SSH-2.0-OpenSSH_9.6p1\r\n' }] },
  {
    name: 'conflicting duplicate Content-Length',
    answer: [{ write: `${head(200, ['Content-Length: 5', 'Content-Length: 6'])}hello!` }],
  },
  {
    name: 'a 100 KB header',
    answer: [{ write: `${head(200, [`X-Big: ${'a'.repeat(100_000)}`, 'Content-Length: 2'])}{}` }],
  },
  {
    name: '101 Switching Protocols',
    answer: [{ write: head(101, ['Upgrade: websocket', 'Connection: Upgrade']) }],
  },
  {
    name: 'Content-Length with Transfer-Encoding: chunked',
    answer: [{ write: `${head(200, ['Content-Length: 5', 'Transfer-Encoding: chunked'])}0\r\n\r\n` }],
  },
  {
    name: 'a chunk size that is not hex',
    answer: [{ write: `${head(200, ['Transfer-Encoding: chunked'])}zz\r\nabc\r\n0\r\n\r\n` }],
  },
  {
    name: 'bare LF line ends',
    answer: [{ write: `HTTP/1.1 200 OK\nContent-Length: ${validBody.length}\n\n${validBody}` }],
  },
  {
    name: 'a NUL in a header',
    answer: [{ write: `${head(200, ['X-A: a\u0000b', `Content-Length: ${validBody.length}`])}${validBody}` }],
  },
  {
    name: 'bytes after the declared body',
    answer: [{ write: `${head(200, [`Content-Length: ${validBody.length}`])}${validBody}GARBAGE` }],
  },
]

/** Answers cut short: retried while the budget lasts, then MALFORMED_RESPONSE. */
export const cutCases: { name: string; answer: Step[] }[] = [
  { name: 'a head cut short, then FIN', answer: [{ write: 'HTTP/1.1 200 OK\r\nContent-Le' }, { end: true }] },
  {
    name: 'a head cut short, then RST',
    answer: [{ write: 'HTTP/1.1 200 OK\r\nContent-Le' }, { reset: true }],
  },
  {
    name: 'a Content-Length longer than the body, then FIN',
    answer: [{ write: `${head(200, ['Content-Length: 500'])}${validBody}` }, { end: true }],
  },
  {
    name: 'chunked without its last chunk, then FIN',
    answer: [
      {
        write: `${head(200, ['Transfer-Encoding: chunked'])}${validBody.length.toString(16)}\r\n${validBody}\r\n`,
      },
      { end: true },
    ],
  },
]

// The generator: a status, a body, a framing, extra headers and a delivery, for the first `times`
// requests; later requests get the valid answer, as an extension that recovers.

type Framing =
  | 'length'
  | 'short'
  | 'long'
  | 'chunked'
  | 'chunked-bad'
  | 'chunked-open'
  | 'close'
  | 'dup-length'
type BodyKind = 'valid' | 'truncated' | 'echo-raw' | 'echo-percent' | 'echo-json' | 'text' | 'empty'

export interface Hostile {
  status: number
  body: BodyKind
  text: string
  framing: Framing
  headers: string[]
  /** Byte positions where the answer is split, with a pause after each part. */
  splits: number[]
  pauseMs: number
  ending: 'keep' | 'end' | 'reset'
  /** Cut the answer after this fraction of its bytes (1: whole). */
  keep: number
  times: number
}

export const hostileAnswer: fc.Arbitrary<Hostile> = fc.record({
  status: fc.constantFrom(200, 200, 200, 200, 201, 204, 302, 400, 401, 403, 404, 429, 500, 503, 101, 999),
  body: fc.constantFrom<BodyKind>(
    'valid',
    'valid',
    'truncated',
    'echo-raw',
    'echo-percent',
    'echo-json',
    'text',
    'empty',
  ),
  text: fc.string({ maxLength: 30 }),
  framing: fc.constantFrom<Framing>(
    'length',
    'length',
    'short',
    'long',
    'chunked',
    'chunked-bad',
    'chunked-open',
    'close',
    'dup-length',
  ),
  headers: fc.subarray([
    'Connection: close',
    'Content-Type: application/json',
    `X-Pad: ${'p'.repeat(20_000)}`,
    'Transfer-Encoding: gzip',
  ]),
  splits: fc.array(fc.nat(400), { maxLength: 3 }),
  pauseMs: fc.integer({ min: 0, max: 3 }),
  ending: fc.constantFrom<'keep' | 'end' | 'reset'>('keep', 'keep', 'end', 'reset'),
  keep: fc.constantFrom(1, 1, 1, 0.5, 0.1),
  times: fc.integer({ min: 1, max: 3 }),
})

const bodyOf = (hostile: Hostile, request: WireRequest): string => {
  switch (hostile.body) {
    case 'valid':
      return validBody
    case 'truncated':
      return validBody.slice(0, validBody.length - 5)
    case 'echo-raw':
      return `${hostile.text}${request.head}`
    case 'echo-percent':
      return `?req=${encodeURIComponent(request.head)}`
    case 'echo-json':
      return JSON.stringify({ message: hostile.text, request: request.head, secret: secretValue })
    case 'text':
      return hostile.text
    case 'empty':
      return ''
  }
}

/** The byte script of one generated answer to one request. */
export const scriptOf = (hostile: Hostile, request: WireRequest): Step[] => {
  if (request.index >= hostile.times)
    return [{ write: `${head(200, [`Content-Length: ${Buffer.byteLength(validBody)}`])}${validBody}` }]
  const body = Buffer.from(bodyOf(hostile, request))
  const length = body.length
  let framed: Buffer
  const withHead = (lines: string[], payload: Buffer | string) =>
    Buffer.concat([Buffer.from(head(hostile.status, [...hostile.headers, ...lines])), Buffer.from(payload)])
  switch (hostile.framing) {
    case 'length':
      framed = withHead([`Content-Length: ${length}`], body)
      break
    case 'short':
      framed = withHead([`Content-Length: ${length + 50}`], body)
      break
    case 'long':
      framed = withHead([`Content-Length: ${Math.max(0, length - 5)}`], body)
      break
    case 'chunked':
      framed = withHead(
        ['Transfer-Encoding: chunked'],
        length === 0
          ? '0\r\n\r\n'
          : Buffer.concat([
              Buffer.from(`${length.toString(16)};ext=1\r\n`),
              body,
              Buffer.from('\r\n0\r\n\r\n'),
            ]),
      )
      break
    case 'chunked-bad':
      framed = withHead(
        ['Transfer-Encoding: chunked'],
        Buffer.concat([Buffer.from(`${(length + 3).toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]),
      )
      break
    case 'chunked-open':
      framed = withHead(
        ['Transfer-Encoding: chunked'],
        Buffer.concat([Buffer.from(`${length.toString(16)}\r\n`), body, Buffer.from('\r\n')]),
      )
      break
    case 'close':
      framed = withHead(['Connection: close'], body)
      break
    case 'dup-length':
      framed = withHead([`Content-Length: ${length}`, `Content-Length: ${length + 1}`], body)
      break
  }
  framed = framed.subarray(0, Math.ceil(framed.length * hostile.keep))
  const steps: Step[] = []
  let from = 0
  for (const split of [...hostile.splits].sort((a, b) => a - b)) {
    if (split <= from || split >= framed.length) continue
    steps.push({ write: framed.subarray(from, split) }, { wait: hostile.pauseMs })
    from = split
  }
  steps.push({ write: framed.subarray(from) })
  // Without a length, only the end of the connection ends the body.
  const ending = hostile.framing === 'close' && hostile.ending === 'keep' ? 'end' : hostile.ending
  if (ending === 'end') steps.push({ end: true })
  if (ending === 'reset') steps.push({ wait: 1 }, { reset: true })
  return steps
}

/** The table docs/reliability.md can show between its hostile-wire markers: the cases the suite runs. */
export const hostileWireTable = (): string => {
  const rows: [string, string, string][] = [
    [
      'the request echoed (token included) raw, percent-encoded or JSON-escaped, at the body start, across the 200-character excerpt or the 4 KiB read, with status 400, 401, 403, 404, 503 or 302',
      '`UPSTREAM_ERROR`, `TOKEN_REJECTED` or `MALFORMED_RESPONSE`; the kept body has `[token]`',
      'one (503: retried within the budget)',
    ],
    ...nonHttpCases.map((item): [string, string, string] => [item.name, '`MALFORMED_RESPONSE`', 'one']),
    ...cutCases.map((item): [string, string, string] => [
      `${item.name}, every time / once`,
      '`MALFORMED_RESPONSE` / the value',
      'retried within the budget',
    ]),
    ['the answer dripped one byte at a time, within requestTimeout', 'the value', 'one'],
    ['the answer dripped slower than requestTimeout', '`TIMEOUT`', 'retried within the budget'],
    [
      `${hostileWireRuns} generated answers: status, body (valid, cut, echo, text), framing (lengths true or lying, chunked valid, bad or open, none, duplicated), a 20 KB header, split writes with pauses, FIN or RST, for the first 1-3 requests`,
      'the value exactly, or a classified error',
      'by the deadline',
    ],
  ]
  return [
    '| answer | outcome | requests |',
    '| --- | --- | --- |',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n')
}
