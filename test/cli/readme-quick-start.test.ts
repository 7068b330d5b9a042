import { type ChildProcess, exec, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { afterEach, expect, test } from 'vitest'

// The README's five-minute local start, run as written: its two shell lines, the emulator command in
// the background and the invoke script against it, from the repository root after `npm ci`.

const root = new URL('../../', import.meta.url).pathname
const run = promisify(exec)
let emulator: ChildProcess | undefined

// npx starts the command as a child of its own: the whole process group is ended.
afterEach(() => {
  if (emulator?.pid !== undefined && emulator.exitCode === null) process.kill(-emulator.pid)
})

const quickStart = (): [string, string] => {
  const readme = readFileSync(`${root}README.md`, 'utf8')
  const section = readme.slice(readme.indexOf('**Your own handler, locally, in five minutes.**'))
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1]
  const lines = block?.trim().split('\n') ?? []
  expect(lines).toHaveLength(2)
  return lines as [string, string]
}

test("the README's local quick start works as written", async () => {
  const [serve, invoke] = quickStart()
  expect(serve).toMatch(/^npx extension-secrets-emulator /)
  emulator = spawn('sh', ['-c', serve], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let printed = ''
  await new Promise<void>((resolve, reject) => {
    emulator!.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      printed += chunk
      if (printed.includes('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=2773')) resolve()
    })
    emulator!.on('exit', (code) => reject(new Error(`the emulator command exited with ${code}: ${printed}`)))
  })
  // The invoke line sets its own variables, as a reader's shell would.
  const env = { ...process.env }
  delete env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT
  delete env.AWS_SESSION_TOKEN
  const { stdout } = await run(invoke, { cwd: root, env })
  expect(JSON.parse(stdout)).toMatchObject({
    user: 'app',
    apiUrl: 'https://api.example.com',
    hasPrevious: true,
  })
}, 60_000)
