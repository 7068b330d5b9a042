import { Agent } from 'node:http'
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { notReadyBody, startEmulator } from '../../src/emulator/index.js'
import { ask, emulate, errorCode, parameter, secret, sleep, values } from './helpers.js'

// The fault script, and connection handling (refuse windows, keep-alive, close).

describe('faults', () => {
  it('refuses connections during a refuse window, then serves on the same port', async () => {
    const emulator = await emulate({ faults: [{ action: 'refuse', forMs: 150 }] })
    const port = emulator.port
    expect(await errorCode(ask(emulator, secret('prod/plain')))).toBe('ECONNREFUSED')
    await sleep(200)
    expect(emulator.port).toBe(port)
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
  })

  it('refuses later when setFaults adds a window, including overlapping windows', async () => {
    const emulator = await emulate()
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
    emulator.setFaults([
      { action: 'refuse', afterMs: 40, forMs: 150 },
      { action: 'refuse', afterMs: 120, forMs: 150 },
    ])
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
    await sleep(70)
    expect(await errorCode(ask(emulator, secret('prod/plain')))).toBe('ECONNREFUSED')
    await sleep(150)
    expect(await errorCode(ask(emulator, secret('prod/plain')))).toBe('ECONNREFUSED')
    await sleep(90)
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
  })

  it('drops idle keep-alive connections when a refuse window opens', async () => {
    const emulator = await emulate()
    const agent = new Agent({ keepAlive: true })
    try {
      expect((await ask(emulator, secret('prod/plain'), { agent })).status).toBe(200)
      emulator.setFaults([{ action: 'refuse', forMs: 100 }])
      await sleep(10)
      expect(await errorCode(ask(emulator, secret('prod/plain'), { agent }))).toBe('ECONNREFUSED')
    } finally {
      agent.destroy()
    }
  })

  it('resets the connection without an answer', async () => {
    const emulator = await emulate({ faults: [{ action: 'reset' }] })
    expect(await errorCode(ask(emulator, secret('prod/plain')))).toBe('ECONNRESET')
    expect(emulator.requests[0]).toMatchObject({ outcome: 'reset' })
    expect(emulator.requests[0]?.status).toBeUndefined()
  })

  /** The raw bytes a connection received for one request, and how the connection ended. */
  const rawExchange = (port: number, path: string) =>
    new Promise<{ text: string; ended: 'end' | 'error' }>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      let text = ''
      socket.setEncoding('latin1')
      socket.on('data', (chunk: string) => {
        text += chunk
      })
      socket.on('end', () => resolve({ text, ended: 'end' }))
      socket.on('error', () => resolve({ text, ended: 'error' }))
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Aws-Parameters-Secrets-Token: t\r\n\r\n`)
    })
  const declaredAndSent = (text: string) => {
    const [head = '', body = ''] = text.split('\r\n\r\n')
    return { declared: Number(/content-length: (\d+)/i.exec(head)?.[1]), sent: body.length, head }
  }

  it('sends the headers and half the body, then resets (reset-mid-body)', async () => {
    const emulator = await emulate({ faults: [{ action: 'reset-mid-body' }] })
    const { text, ended } = await rawExchange(emulator.port, secret('prod/plain'))
    const { declared, sent, head } = declaredAndSent(text)
    expect(head).toMatch(/^HTTP\/1.1 200/)
    expect(sent).toBe(Math.floor(declared / 2))
    expect(ended).toBe('error')
    expect(emulator.requests[0]).toMatchObject({ outcome: 'reset-mid-body', status: 200 })
  })

  it('sends the headers and half the body, then closes cleanly (truncate)', async () => {
    const emulator = await emulate({ faults: [{ action: 'truncate' }] })
    const { text, ended } = await rawExchange(emulator.port, secret('prod/plain'))
    const { declared, sent } = declaredAndSent(text)
    expect(declared).toBeGreaterThan(10)
    expect(sent).toBe(Math.floor(declared / 2))
    expect(ended).toBe('end')
    expect(emulator.requests[0]).toMatchObject({ outcome: 'truncate', status: 200 })
  })

  it('answers whole and keep-alive, then closes the connection (close-after)', async () => {
    const emulator = await emulate({ faults: [{ action: 'close-after', times: 1 }] })
    const { text, ended } = await rawExchange(emulator.port, secret('prod/plain'))
    const { declared, sent, head } = declaredAndSent(text)
    expect(sent).toBe(declared)
    expect(head).toMatch(/keep-alive/i)
    expect(ended).toBe('end')
    expect(JSON.parse(text.split('\r\n\r\n')[1] ?? '').SecretString).toBe('a string secret')
    expect(emulator.requests[0]).toMatchObject({ outcome: 'served', status: 200 })
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
  })

  it('hangs until the emulator closes', async () => {
    const emulator = await emulate({ faults: [{ action: 'hang' }] })
    const pending = errorCode(ask(emulator, secret('prod/plain')))
    await sleep(50)
    expect(emulator.requests[0]).toMatchObject({ outcome: 'hang' })
    const closedAt = performance.now()
    await emulator.close()
    expect(performance.now() - closedAt).toBeLessThan(500)
    expect(await pending).toMatch(/^E/)
  })

  it('answers not ready', async () => {
    const emulator = await emulate({ faults: [{ action: 'not-ready' }] })
    expect(await ask(emulator, secret('prod/plain'))).toMatchObject({ status: 400, body: notReadyBody })
    expect(emulator.requests[0]).toMatchObject({ outcome: 'not-ready', status: 400 })
  })

  it('responds with the given status and body', async () => {
    const emulator = await emulate({
      faults: [{ action: 'respond', status: 429, body: 'Connection limit exceeded' }],
    })
    expect(await ask(emulator, secret('prod/plain'))).toMatchObject({
      status: 429,
      body: 'Connection limit exceeded',
    })
    expect(emulator.requests[0]).toMatchObject({ outcome: 'status', status: 429 })
  })

  it('delays cache misses only: a hit is answered from memory at once', async () => {
    const emulator = await emulate({ faults: [{ action: 'delay', ms: 80 }] })
    const startedAt = performance.now()
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(75)
    const again = performance.now()
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
    expect(performance.now() - again).toBeLessThan(75)
    expect(emulator.requests.map((request) => request.diagnosis)).toEqual(['miss', 'hit'])
  })

  it('decides the other rules on arrival: a not-ready window answers before any delay', async () => {
    const emulator = await emulate({
      faults: [
        { action: 'delay', ms: 80 },
        { action: 'not-ready', times: 1 },
      ],
    })
    const startedAt = performance.now()
    expect(await ask(emulator, secret('prod/plain'))).toMatchObject({ status: 400, body: notReadyBody })
    expect(performance.now() - startedAt).toBeLessThan(75)
  })

  it('reads the values when the delayed miss reaches upstream: a rotation meanwhile is seen', async () => {
    const emulator = await emulate({ faults: [{ action: 'delay', ms: 150 }] })
    const pending = ask(emulator, secret('prod/plain'))
    await sleep(20)
    emulator.setValues({ ...values, secrets: { ...values.secrets, 'prod/plain': 'rotated' } })
    const reply = await pending
    expect(reply.status).toBe(200)
    expect(JSON.parse(reply.body).SecretString).toBe('rotated')
  })

  it('applies a rule to its first N matching requests only', async () => {
    const emulator = await emulate({ faults: [{ action: 'not-ready', times: 2 }] })
    const statuses = []
    for (let attempt = 0; attempt < 3; attempt++)
      statuses.push((await ask(emulator, secret('prod/plain'))).status)
    expect(statuses).toEqual([400, 400, 200])
  })

  it('applies a rule only within its afterMs and forMs window', async () => {
    const emulator = await emulate({ faults: [{ action: 'not-ready', afterMs: 50, forMs: 100 }] })
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
    await sleep(90)
    expect((await ask(emulator, secret('prod/plain'))).body).toBe(notReadyBody)
    await sleep(100)
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
  })

  it('matches rules by service and name', async () => {
    const emulator = await emulate({
      faults: [
        {
          action: 'respond',
          status: 500,
          body: 'secret fault',
          match: { service: 'secret', name: 'prod/db' },
        },
        { action: 'respond', status: 502, body: 'parameter fault', match: { service: 'parameter' } },
      ],
    })
    expect((await ask(emulator, secret('prod/db'))).status).toBe(500)
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
    expect((await ask(emulator, parameter('/app/url'))).status).toBe(502)
  })

  it('restarts the clock and the counters on setFaults', async () => {
    const emulator = await emulate({ faults: [{ action: 'not-ready', times: 1 }] })
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(400)
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
    emulator.setFaults([{ action: 'not-ready', times: 1 }])
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(400)
    await sleep(50)
    emulator.setFaults([{ action: 'not-ready', forMs: 40 }])
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(400)
    emulator.setFaults([])
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
  })

  it('rejects invalid rules with the index of the rule', async () => {
    await expect(startEmulator({ faults: [{ action: 'boom' } as never] })).rejects.toThrow(
      /^faults\[0\]\.action: unknown action "boom"/,
    )
    await expect(startEmulator({ faults: [{ action: 'refuse', times: 1 } as never] })).rejects.toThrow(
      /^faults\[0\]\.times: not supported by "refuse"/,
    )
    const emulator = await emulate()
    expect(() =>
      emulator.setFaults([{ action: 'hang' }, { action: 'reset' }, { action: 'respond', status: 42 }]),
    ).toThrow(/^faults\[2\]\.status: expected an integer from 200 to 599$/)
    expect(() => emulator.setFaults([{ action: 'delay' } as never])).toThrow(/^faults\[0\]\.ms:/)
    expect(() => emulator.setFaults([{ action: 'reset', match: { service: 'kms' } } as never])).toThrow(
      /^faults\[0\]\.match\.service:/,
    )
  })
})

describe('connections', () => {
  it('keeps connections alive between requests', async () => {
    const emulator = await emulate()
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const first = await ask(emulator, secret('prod/plain'), { agent })
      const second = await ask(emulator, secret('prod/db'), { agent })
      expect(first.headers.connection).toBe('keep-alive')
      expect(second.status).toBe(200)
      expect(emulator.requests.map((request) => request.headers.includes('connection'))).toEqual([true, true])
    } finally {
      agent.destroy()
    }
  })

  it('closes without waiting for hanging or delayed requests, and leaves no open handles', async () => {
    const counts = () => {
      const names = process.getActiveResourcesInfo()
      return {
        handles: names.filter((name) => name === 'TCPServerWrap' || name === 'TCPSocketWrap').length,
        timers: names.filter((name) => name === 'Timeout').length,
      }
    }
    // Sockets of earlier tests may still be closing: wait until the counts settle, then take them.
    const settled = async () => {
      let last = JSON.stringify(counts())
      for (let i = 0; i < 100; i++) {
        await sleep(20)
        const now = JSON.stringify(counts())
        if (now === last) return JSON.parse(now) as ReturnType<typeof counts>
        last = now
      }
      return JSON.parse(last) as ReturnType<typeof counts>
    }
    const before = await settled()
    const emulator = await startEmulator({
      values,
      faults: [
        { action: 'refuse', afterMs: 10_000 },
        { action: 'delay', ms: 10_000, match: { name: 'prod/db' } },
        { action: 'hang', match: { name: 'prod/plain' } },
      ],
    })
    const hanging = errorCode(ask(emulator, secret('prod/plain')))
    const delayed = errorCode(ask(emulator, secret('prod/db')))
    await sleep(30)
    const closedAt = performance.now()
    await emulator.close()
    await emulator.close()
    // The delay rule would hold the request for 10 s: close() must not wait for it.
    expect(performance.now() - closedAt).toBeLessThan(5_000)
    await Promise.all([hanging, delayed])
    // Other tests' timers and sockets may end meanwhile: what matters is that nothing was added.
    const after = await settled()
    expect(after.handles).toBeLessThanOrEqual(before.handles)
    expect(after.timers).toBeLessThanOrEqual(before.timers)
    expect(await errorCode(ask(emulator, secret('prod/plain')))).toBe('ECONNREFUSED')
  })
})
