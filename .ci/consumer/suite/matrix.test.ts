// The combination is what it claims, and one @middy/util serves the user's Middy and the package.
import { readFile } from 'node:fs/promises'
import middy from '@middy/core'
import { clearCache } from '@middy/util'
import { extensionSecrets, parameter } from 'middy-extension-secrets'
import { startEmulator } from 'middy-extension-secrets/emulator'
import { afterAll, expect, test } from 'vitest'

const [, nodeMajor, middyMajor] = /^node(\d+)-middy(\d+)$/.exec(process.env.CONSUMER_COMBO ?? '') ?? []

const versionOf = async (name: string): Promise<string> =>
  JSON.parse(await readFile(new URL(`node_modules/${name}/package.json`, import.meta.url), 'utf8')).version

const emulator = await startEmulator({ values: { parameters: { '/app/url': 'https://example.com' } } })
afterAll(() => emulator.close())

test('runs on the Node and Middy majors of its name, with the package installed from its tarball', async () => {
  expect(process.versions.node.split('.')[0]).toBe(nodeMajor)
  expect((await versionOf('@middy/core')).split('.')[0]).toBe(middyMajor)
  expect((await versionOf('@middy/util')).split('.')[0]).toBe(middyMajor)
  expect(await versionOf('middy-extension-secrets')).toMatch(/^\d+\.\d+\.\d+/)
})

test("clearCache() from the user's @middy/util empties the package's cache", async () => {
  const handler = middy()
    .use(
      extensionSecrets({
        fetchData: { url: parameter('/app/url') },
        port: emulator.port,
        token: 'local-test-token',
        cacheExpiry: -1,
      }),
    )
    .handler(async (_event, context) => context.url)
  const context = { getRemainingTimeInMillis: () => 5_000 } as never
  const served = () => emulator.requests.filter((request) => request.outcome === 'served').length

  await expect(handler({}, context)).resolves.toBe('https://example.com')
  await expect(handler({}, context)).resolves.toBe('https://example.com')
  expect(served()).toBe(1)
  clearCache()
  await expect(handler({}, context)).resolves.toBe('https://example.com')
  expect(served()).toBe(2)
})
