// What a SAM, CDK (NodejsFunction) or Serverless build does: bundle a handler with esbuild. The bundle
// must run on its own and read values from the emulator, hold no dynamic require, and carry none of
// the emulator.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { build } from 'esbuild'
import { startEmulator } from 'middy-extension-secrets/emulator'
import { afterAll, beforeAll, expect, test } from 'vitest'

const run = promisify(execFile)
const packageDir = new URL('node_modules/middy-extension-secrets/', import.meta.url).pathname
// Strings only the emulator holds (its Go-like error bodies and a values-format message).
const emulatorOnly = ['Bad Token', 'x-forwarded-for', 'expected exactly one of string, json or binary']

let outDir: string
let bundle: string
let bundlePath: string

beforeAll(async () => {
  // Outside the project, so the bundle cannot fall back on node_modules.
  outDir = await mkdtemp(join(tmpdir(), 'consumer-bundle-'))
  bundlePath = join(outDir, 'handler.mjs')
  await build({
    entryPoints: [new URL('examples/handler.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: bundlePath,
    logLevel: 'silent',
  })
  bundle = await readFile(bundlePath, 'utf8')
})
afterAll(() => rm(outDir, { recursive: true, force: true }))

test('the bundled handler runs on its own and reads every value from the emulator', async () => {
  const emulator = await startEmulator({
    values: {
      parameters: {
        '/app/api-url': 'https://api.example.com',
        '/app/hosts': { type: 'StringList', value: ['a.example.com', 'b.example.com'] },
        '/app/signing-key': { type: 'SecureString', value: 'bundle-signing-key' },
        '/app/flags': { versions: ['{"beta":false}', '{"beta":true}', '{"dark":true}'] },
      },
      secrets: {
        'prod/db': { json: { username: 'app', password: 'bundle-password' } },
        'prod/api-key': {
          versions: [
            { stages: ['AWSPREVIOUS'], string: 'old-key' },
            { stages: ['AWSCURRENT'], string: 'new-key' },
          ],
        },
        'prod/cert': { binary: Buffer.from('certificate').toString('base64') },
      },
    },
    faults: [{ action: 'not-ready', times: 2 }],
  })
  try {
    const script = `const { handler } = await import(${JSON.stringify(bundlePath)})
      const result = await handler({}, { getRemainingTimeInMillis: () => 5000 })
      process.stdout.write(JSON.stringify(result))`
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: outDir,
      env: {
        PATH: process.env.PATH,
        PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(emulator.port),
        AWS_SESSION_TOKEN: 'local-test-token',
      },
    })
    expect(JSON.parse(stdout)).toEqual({
      user: 'app',
      passwordLength: 'bundle-password'.length,
      apiUrl: 'https://api.example.com',
      firstHost: 'a.example.com',
      signingKeyLength: 'bundle-signing-key'.length,
      hasPrevious: true,
      flags: { dark: true },
      certBytes: 'certificate'.length,
    })
    expect(emulator.requests.filter((request) => request.outcome === 'not-ready')).toHaveLength(2)
  } finally {
    await emulator.close()
  }
})

test('the bundle has no dynamic require', () => {
  // esbuild turns a require() it cannot resolve in an ESM bundle into a shim that throws at run time.
  expect(bundle).not.toMatch(/Dynamic require of|__require\(/)
})

test('the emulator is tree-shaken out of a handler bundle', async () => {
  // The published emulator entry point is one file (docs/decisions/0009-one-file-per-entry-point.md).
  const emulatorCode = await readFile(join(packageDir, 'dist/emulator/index.js'), 'utf8')
  for (const text of emulatorOnly) {
    // Each marker is really in the emulator, so its absence from the bundle means something.
    expect(emulatorCode).toContain(text)
    expect(bundle).not.toContain(text)
  }
  // Yet the package's own code is there.
  expect(bundle).toContain('X-Aws-Parameters-Secrets-Token')
})

test('a bundle that imports the package but uses nothing holds none of it (sideEffects: false)', async () => {
  const result = await build({
    stdin: {
      contents: "import 'middy-extension-secrets'\nimport 'middy-extension-secrets/emulator'\n",
      resolveDir: new URL('.', import.meta.url).pathname,
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  })
  const inputs = Object.keys(result.metafile.inputs)
  expect(inputs.some((path) => path.includes('middy-extension-secrets/dist/'))).toBe(true)
  expect(result.outputFiles[0]!.text.trim()).toBe('')
})

test('importing the package does nothing: no global, no open handle, no environment read, no output', async () => {
  // The top level of every module only defines constants and functions; this is what makes
  // sideEffects: false true rather than a claim.
  // What the package imports is loaded first: only the package's own top level runs while watched.
  const dependencies = ['@middy/util', 'node:crypto', 'node:fs', 'node:fs/promises', 'node:http', 'node:net']
  const script = `for (const name of ${JSON.stringify([...dependencies, 'node:path', 'node:perf_hooks', 'node:util'])}) await import(name)
    const reads = []
    const env = process.env
    process.env = new Proxy(env, {
      get: (target, name) => (reads.push(String(name)), target[name]),
      has: (target, name) => (reads.push(String(name)), name in target),
    })
    const globals = new Set(Object.getOwnPropertyNames(globalThis))
    await new Promise((resolve) => setImmediate(resolve))
    const open = process.getActiveResourcesInfo()
    await import('middy-extension-secrets')
    await import('middy-extension-secrets/emulator')
    await new Promise((resolve) => setImmediate(resolve))
    process.env = env
    const found = {
      added: Object.getOwnPropertyNames(globalThis).filter((name) => !globals.has(name)),
      opened: process.getActiveResourcesInfo().filter((name) => {
        const index = open.indexOf(name)
        if (index !== -1) open.splice(index, 1)
        return index === -1
      }),
      // Node's module loader reads this one for --watch, whatever is imported.
      envRead: reads.filter((name) => name !== 'WATCH_REPORT_DEPENDENCIES'),
    }
    process.stdout.write(JSON.stringify(found))`
  const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: new URL('.', import.meta.url).pathname,
  })
  expect(JSON.parse(stdout)).toEqual({ added: [], opened: [], envRead: [] })
  expect(stderr).toBe('')
})
