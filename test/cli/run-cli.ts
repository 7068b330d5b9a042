import { type ChildProcess, spawn } from 'node:child_process'
import { afterEach } from 'vitest'
import { secretMarker, testToken } from '../helpers.js'

const binPath = new URL('../../src/cli/bin.ts', import.meta.url).pathname
// Resolved here, not from the child's working folder, which is a temporary one in some tests.
const tsxLoader = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href

/** The emulator command running as a child process, as a developer runs it. */
export interface RunningCli {
  child: ChildProcess
  /** Everything it printed so far, stdout then stderr interleaved as it came. */
  output(): string
  stdout(): string
  stderr(): string
  /** Resolves with the match once `pattern` has matched `count` times in the output. */
  waitFor(pattern: RegExp, count?: number): Promise<RegExpMatchArray>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const waitLimitMs = 10_000

/**
 * Starts the command from source (through tsx) with `AWS_SESSION_TOKEN` set to the test token, so
 * that a leak of the developer's token into the output would be seen.
 */
export const useCli = () => {
  const running: ChildProcess[] = []
  afterEach(() => {
    for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  })
  return (args: string[], cwd?: string, env: Record<string, string> = {}): RunningCli => {
    const child = spawn(process.execPath, ['--import', tsxLoader, binPath, ...args], {
      cwd,
      env: { ...process.env, AWS_SESSION_TOKEN: testToken, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    running.push(child)
    let all = ''
    let out = ''
    let err = ''
    const listeners = new Set<() => void>()
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      all += chunk
      out += chunk
      for (const listener of listeners) listener()
    })
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      all += chunk
      err += chunk
      for (const listener of listeners) listener()
    })
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('close', (code, signal) => resolve({ code, signal })),
    )
    const waitFor = (pattern: RegExp, count = 1) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const global = new RegExp(
          pattern.source,
          pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`,
        )
        const check = () => {
          const matches = [...all.matchAll(global)]
          if (matches.length < count) return false
          done()
          resolve(matches[count - 1]!)
          return true
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`no ${count}x ${pattern} within ${waitLimitMs} ms; output:\n${shown(all)}`))
        }, waitLimitMs)
        const done = () => {
          clearTimeout(timer)
          listeners.delete(check)
        }
        listeners.add(check)
        void exited.then(() => {
          if (listeners.has(check) && !check()) {
            done()
            reject(new Error(`exited before ${count}x ${pattern}; output:\n${shown(all)}`))
          }
        })
        check()
      })
    return { child, output: () => all, stdout: () => out, stderr: () => err, waitFor, exited }
  }
}

// A failure message must not print what the test checks is never printed.
const shown = (text: string) => text.replaceAll(testToken, '[token]').replaceAll(secretMarker, '[secret]')

/** The port from the first line the command prints. */
export const portOf = async (cli: RunningCli): Promise<number> =>
  Number((await cli.waitFor(/on http:\/\/127\.0\.0\.1:(\d+)/))[1])
