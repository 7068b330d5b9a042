// The installed bin, as a developer runs it: serves a values file to the middleware and follows edits.
import { spawn } from 'node:child_process'
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import middy from '@middy/core'
import { extensionSecrets, parameter } from 'middy-extension-secrets'
import { expect, test } from 'vitest'

const token = 'CONSUMER-TOKEN-MARKER-51c2'
const bin = new URL('node_modules/.bin/extension-secrets-emulator', import.meta.url).pathname

test('extension-secrets-emulator serves a values file, reloads it after an atomic save, stops on SIGINT', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'consumer-cli-'))
  const valuesPath = join(dir, 'values.json')
  const values = (url: string) => JSON.stringify({ parameters: { '/app/url': url } })
  await writeFile(valuesPath, values('https://first.example.com'))
  const child = spawn(bin, ['--values', valuesPath, '--port', '0'], {
    env: { ...process.env, AWS_SESSION_TOKEN: token },
  })
  let output = ''
  const collect = (chunk: Buffer) => {
    output += chunk
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve))
  const seen = async (pattern: RegExp): Promise<RegExpMatchArray> => {
    for (;;) {
      const match = pattern.exec(output)
      if (match) return match
      if (child.exitCode !== null) throw new Error(`exited before ${pattern}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  try {
    const port = Number((await seen(/PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=(\d+)/))[1])
    const handler = middy()
      .use(extensionSecrets({ fetchData: { url: parameter('/app/url', { parse: 'text' }) }, port, token }))
      .handler(async (_event, context) => context.url)
    const context = { getRemainingTimeInMillis: () => 5_000 } as never
    await expect(handler({}, context)).resolves.toBe('https://first.example.com')

    await writeFile(join(dir, 'values.json.new'), values('https://second.example.com'))
    await rename(join(dir, 'values.json.new'), valuesPath)
    await seen(/reloaded .*values\.json: 1 parameter, 0 secrets/)
    await expect(handler({}, context)).resolves.toBe('https://second.example.com')

    child.kill('SIGINT')
    expect(await closed).toBe(0)
    expect(output).toContain('stopped (SIGINT)')
    expect(output).not.toContain(token)
  } finally {
    child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
})
