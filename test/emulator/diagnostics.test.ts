import { Agent } from 'node:http'
import { describe, expect, it } from 'vitest'
import { createAccount, logPrefix } from '../../src/emulator/index.js'
import { ask, emulate, parameter, secret } from './helpers.js'

// The log lines a developer reads locally, and the bounded record of requests.

const tokenMarker = 'TOKEN-MARKER-diag-51c0'
const valueMarker = 'VALUE-MARKER-diag-9e2a'

describe('log lines', () => {
  it('says per request the operation, name, selectors and outcome, in the layer style, never a value or the token', async () => {
    const lines: string[] = []
    const emulator = await emulate({
      token: tokenMarker,
      values: {
        secrets: { 'prod/db': valueMarker },
        parameters: { '/app/key': { type: 'SecureString', value: valueMarker }, '/app/forbidden': 'x' },
        denied: ['/app/forbidden'],
      },
      account: createAccount({ getParameterPerSecond: 3 }),
      upstream: { retryBackoffMs: 0 },
      faults: [{ action: 'not-ready', times: 1, match: { name: 'late' } }],
      log: (line) => lines.push(line),
    })
    const sent = { token: tokenMarker }
    await ask(emulator, secret('prod/db', '&versionStage=AWSCURRENT'), sent)
    await ask(emulator, secret('prod/db', '&versionStage=AWSCURRENT'), sent)
    await ask(emulator, parameter('/app/key', `&withDecryption=true&leak=${tokenMarker}`), sent)
    await ask(emulator, parameter('/app/missing'), sent)
    await ask(emulator, parameter('/app/forbidden'), sent)
    await ask(emulator, parameter('/app/key', '&withDecryption=true&version=1'), sent)
    await ask(emulator, secret('late'), sent)
    await ask(emulator, secret('prod/db'), { token: `${tokenMarker}-wrong` })
    expect(lines.every((line) => line.startsWith(`${logPrefix} `))).toBe(true)
    expect(lines[0]).toBe(`${logPrefix} INFO GetSecretValue "prod/db" versionStage="AWSCURRENT": miss`)
    expect(lines[1]).toBe(`${logPrefix} INFO GetSecretValue "prod/db" versionStage="AWSCURRENT": hit`)
    expect(lines[2]).toBe(`${logPrefix} INFO GetParameter "/app/key" withDecryption="true": miss`)
    expect(lines[3]).toMatch(
      /^\[AWS Parameters and Secrets Lambda Extension\] ERROR GetParameter request encountered an error: operation error SSM: GetParameter, .*ParameterNotFound.*"\/app\/missing": unknown name\)$/,
    )
    expect(lines[4]).toMatch(/ERROR .*AccessDeniedException.*: denied\)$/)
    expect(lines[5]).toMatch(/ERROR .*ThrottlingException.*: throttled\)$/)
    expect(lines[6]).toBe(`${logPrefix} INFO GET "/secretsmanager/get": not-ready (fault rule)`)
    expect(lines[7]).toBe(`${logPrefix} WARN GET "/secretsmanager/get": bad token (401)`)
    const all = lines.join('\n')
    expect(all).not.toContain(tokenMarker)
    expect(all).not.toContain(valueMarker)
  })

  it('quotes names, so a name cannot forge a second line', async () => {
    const lines: string[] = []
    const emulator = await emulate({ log: (line) => lines.push(line) })
    await ask(emulator, secret('x\n[AWS Parameters and Secrets Lambda Extension] INFO forged'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).not.toContain('\n')
  })

  it('logs at the chosen level and above: warn drops hits and misses, none drops everything', async () => {
    for (const [logLevel, count] of [
      ['warn', 1],
      ['none', 0],
      ['debug', 3],
    ] as const) {
      const lines: string[] = []
      const emulator = await emulate({ logLevel, log: (line) => lines.push(line) })
      await ask(emulator, secret('prod/plain'))
      await ask(emulator, secret('prod/missing'))
      expect(lines.filter((line) => !line.includes(' DEBUG configuration'))).toHaveLength(
        count === 3 ? 2 : count,
      )
      if (logLevel === 'debug')
        expect(lines[0]).toMatch(/DEBUG configuration: flavour=layer SECRETS_MANAGER_TTL=300 /)
    }
  })
})

describe('the record of requests', () => {
  it('keeps the latest recordLimit requests and counts all of them, so memory stays bounded', async () => {
    const emulator = await emulate({ recordLimit: 50 })
    const agent = new Agent({ keepAlive: true, maxSockets: 16 })
    const total = 3_000
    try {
      for (let batch = 0; batch < total / 100; batch++) {
        await Promise.all(Array.from({ length: 100 }, () => ask(emulator, secret('prod/plain'), { agent })))
      }
    } finally {
      agent.destroy()
    }
    expect(emulator.requests).toHaveLength(50)
    expect(emulator.counts.total).toBe(total)
    expect(emulator.counts.byOutcome.served).toBe(total)
    // The kept ones are the latest.
    const times = emulator.requests.map((request) => request.at)
    expect(times).toEqual([...times].sort((a, b) => a - b))
  })

  it('keeps none with recordLimit 0, and still counts', async () => {
    const emulator = await emulate({ recordLimit: 0 })
    await ask(emulator, secret('prod/plain'))
    expect(emulator.requests).toHaveLength(0)
    expect(emulator.counts).toEqual({ total: 1, byOutcome: { served: 1 } })
  })
})
