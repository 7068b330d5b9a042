import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'
import { parseCommandLine } from '../../src/cli/args.js'
import { testToken } from '../helpers.js'
import { portOf, useCli } from './run-cli.js'

// docs/testing.md's flows, run as written: the command serving examples/handler-values.json, and
// examples/invoke-local.ts invoking the example handler against it as a plain script.

const start = useCli()
const run = promisify(execFile)
const root = new URL('../../', import.meta.url).pathname
const tsxLoader = new URL('node_modules/tsx/dist/loader.mjs', `file://${root}`).href

test('examples/invoke-local.ts reads every value of the example handler through the command', async () => {
  const cli = start(['--values', 'examples/handler-values.json', '--port', '0'], root)
  const port = await portOf(cli)
  const { stdout } = await run(process.execPath, ['--import', tsxLoader, 'examples/invoke-local.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(port),
      AWS_SESSION_TOKEN: testToken,
    },
  })
  expect(JSON.parse(stdout)).toEqual({
    user: 'app',
    passwordLength: 'local-password'.length,
    apiUrl: 'https://api.example.com',
    firstHost: 'a.example.com',
    signingKeyLength: 'local-signing-key'.length,
    hasPrevious: true,
    flags: { beta: true, dark: true },
    certBytes: 'certificate'.length,
  })
})

test("docs/testing.md shows its examples as they are, and the env-vars file names the command's default port", async () => {
  const envFile = await readFile(new URL('examples/sam-local-env.json', `file://${root}`), 'utf8')
  const doc = await readFile(new URL('docs/testing.md', `file://${root}`), 'utf8')
  expect(doc).toContain(envFile.trim())
  const script = await readFile(new URL('examples/invoke-local.ts', `file://${root}`), 'utf8')
  expect(doc).toContain(script.trim())
  const command = parseCommandLine(['--values', 'values.json'])
  expect(command.kind === 'run' && command.options.port).toBe(2773)
  expect(JSON.parse(envFile).Parameters.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT).toBe('2773')
})
