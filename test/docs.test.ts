// The long docs under docs/ hold no code that is not also a real file: every code block (other than
// shell commands) is marked with the file, or region of a file, it shows, and must equal it. Those files
// are type-checked against Middy 6 and 7 and, where they can run locally, run by their own tests. The
// options and error references are checked for completeness against the package's types.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { extensionSecretsValidateOptions } from 'middy-extension-secrets'
import { describe, expect, test } from 'vitest'
import type { ExtensionSecretsErrorCode, ExtensionSecretsOptions, RetryOptions } from '../src/index.js'

const root = new URL('..', import.meta.url).pathname
const read = (path: string) => readFileSync(join(root, path), 'utf8')

const docs = [
  'docs/getting-started.md',
  'docs/options.md',
  'docs/errors.md',
  'docs/troubleshooting.md',
  'docs/deploying.md',
  'docs/migrating.md',
  'docs/rotation.md',
]

/** Languages whose blocks must be real files; shell commands and program output are not. */
const checkedLanguages = new Set([
  'ts',
  'typescript',
  'js',
  'json',
  'jsonc',
  'yaml',
  'yml',
  'hcl',
  'terraform',
])

interface Block {
  language: string
  code: string
  sample?: string
  line: number
}

const blocksOf = (markdown: string): Block[] => {
  const blocks: Block[] = []
  const lines = markdown.split('\n')
  for (let index = 0; index < lines.length; index++) {
    const open = /^```(\w*)\s*$/.exec(lines[index]!)
    if (!open) continue
    const start = index
    const body: string[] = []
    while (++index < lines.length && lines[index] !== '```') body.push(lines[index]!)
    let before = start - 1
    while (before >= 0 && lines[before]!.trim() === '') before--
    const sample = /^<!-- sample: (\S+) -->$/.exec(lines[before] ?? '')?.[1]
    blocks.push({ language: open[1]!, code: body.join('\n'), line: start + 1, ...(sample ? { sample } : {}) })
  }
  return blocks
}

const regionMarker = /^\s*(\/\/|#) #(end)?region\b.*$/

/** A whole file without its region markers, or the lines of one region. */
const sampleText = (reference: string): string => {
  const [path, region] = reference.split('#') as [string, string | undefined]
  const lines = read(path).replace(/\n$/, '').split('\n')
  if (region === undefined) return lines.filter((line) => !regionMarker.test(line)).join('\n')
  const start = lines.findIndex((line) => new RegExp(`^\\s*(//|#) #region ${region}$`).test(line))
  const end = lines.findIndex((line, index) => index > start && /^\s*(\/\/|#) #endregion\b/.test(line))
  if (start < 0 || end < 0) throw new Error(`no region ${region} in ${path}`)
  return lines.slice(start + 1, end).join('\n')
}

describe.each(docs)('%s', (doc) => {
  const markdown = read(doc)

  test('every code block is a real file, or a region of one, and equals it', () => {
    const blocks = blocksOf(markdown)
    for (const block of blocks) {
      if (!checkedLanguages.has(block.language)) {
        expect(
          block.sample,
          `${doc}:${block.line} marks a ${block.language || 'plain'} block`,
        ).toBeUndefined()
        continue
      }
      expect(block.sample, `${doc}:${block.line} needs a <!-- sample: path --> line`).toBeDefined()
      expect(block.code, `${doc}:${block.line} differs from ${block.sample}`).toBe(sampleText(block.sample!))
    }
  })

  test('every relative link points to a file that exists', () => {
    for (const [, target] of markdown.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue
      expect(existsSync(join(root, dirname(doc), target!)), `${doc} links to ${target}`).toBe(true)
    }
  })
})

// Lists checked against the types both ways: a new option or code that is not documented fails here.
const optionNames = [
  'fetchData',
  'setToContext',
  'hideSecrets',
  'cacheKey',
  'cacheExpiry',
  'staleIfError',
  'requestTimeout',
  'retry',
  'coldStartRetry',
  'deadlineMargin',
  'port',
  'host',
  'token',
  'onEvent',
] as const satisfies readonly (keyof ExtensionSecretsOptions)[]
const allOptions: [Exclude<keyof ExtensionSecretsOptions, (typeof optionNames)[number]>] extends [never]
  ? true
  : false = true
const retryNames = [
  'retries',
  'factor',
  'minTimeout',
  'maxTimeout',
  'randomize',
  'maxRetryTime',
] as const satisfies readonly (keyof RetryOptions)[]
const allRetry: [Exclude<keyof RetryOptions, (typeof retryNames)[number]>] extends [never] ? true : false =
  true
const errorCodes = [
  'EXTENSION_UNREACHABLE',
  'EXTENSION_NOT_READY',
  'TIMEOUT',
  'UPSTREAM_ERROR',
  'TOKEN_MISSING',
  'TOKEN_REJECTED',
  'MALFORMED_RESPONSE',
  'PARSE_ERROR',
  'VALIDATION_ERROR',
  'FETCH_FAILED',
] as const satisfies readonly ExtensionSecretsErrorCode[]
const allCodes: [Exclude<ExtensionSecretsErrorCode, (typeof errorCodes)[number]>] extends [never]
  ? true
  : false = true

test('docs/options.md has a section for every option and every retry setting, each one known', () => {
  expect([allOptions, allRetry]).toEqual([true, true])
  const markdown = read('docs/options.md')
  for (const name of optionNames) {
    expect(markdown).toContain(`### \`${name}\``)
    // Known to the validator: a wrong type is reported for the key, not as an unknown option.
    if (name === 'fetchData') continue
    expect(() =>
      extensionSecretsValidateOptions({ fetchData: { a: { parameter: '/a' } }, [name]: [] }),
    ).toThrow(new RegExp(`\`${name}\` (?!is not a known option)`))
  }
  for (const name of retryNames) {
    expect(markdown).toContain(`\`retry.${name}\``)
    // Known keys pass creation; their values are p-retry's to check.
    expect(() =>
      extensionSecretsValidateOptions({ fetchData: { a: { parameter: '/a' } }, retry: { [name]: 1 } }),
    ).not.toThrow()
  }
})

test('docs/errors.md has a section for every error code', () => {
  expect(allCodes).toBe(true)
  const markdown = read('docs/errors.md')
  for (const code of errorCodes) expect(markdown).toContain(`## \`${code}\``)
})

test('every relative link of the docs shipped in the package points to a file the package ships', async () => {
  const { execFileSync } = await import('node:child_process')
  const { readdirSync } = await import('node:fs')
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }),
  )
  const shipped = new Set<string>(packed.files.map((file: { path: string }) => file.path))
  const missing: string[] = []
  for (const doc of readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md'))) {
    for (const [, target] of read(`docs/${doc}`).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue
      const path = join('docs', target!).replace(/\/$/, '')
      if (!shipped.has(path) && ![...shipped].some((file) => file.startsWith(`${path}/`)))
        missing.push(`docs/${doc} → ${target}`)
    }
  }
  expect(missing).toEqual([])
}, 60_000)

// The options page writes every default out; each one must be the default the code uses.
test('the defaults written out in docs/options.md are the ones in src/options.ts', async () => {
  const { defaults } = await import('../src/options.js')
  const example = read('examples/docs/options.ts')
  const region = example.slice(example.indexOf('#region defaults'), example.indexOf('#endregion defaults'))
  const written = (key: string) => {
    const text = new RegExp(`^\\s*${key}: (.+?),?$`, 'm').exec(region)?.[1]
    if (text === undefined) return `${key} not written`
    if (text === 'Number.POSITIVE_INFINITY') return Number.POSITIVE_INFINITY
    return JSON.parse(text.replaceAll('_', '').replaceAll("'", '"'))
  }
  const { retry, port: _port, ...plain } = defaults
  for (const [key, value] of Object.entries(plain)) expect(written(key), key).toEqual(value)
  for (const [key, value] of Object.entries(retry)) expect(written(key), `retry.${key}`).toEqual(value)
})
