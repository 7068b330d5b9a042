import { spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { startFakeAws } from './fake-aws.js'
import { costTable } from './pricing.js'
import { fmt, median, ratio, table } from './report.js'

/** How much to measure. `quick` is the smoke run of `npm test`: every path runs once, no timing is read. */
export interface BenchOptions {
  quick: boolean
  /** Node 22 and Node 24 binaries for the Middy 7 cold starts; undefined skips them. */
  node22?: string | undefined
  node24?: string | undefined
  log?: (line: string) => void
}

export interface Target {
  target: string
  measured: string
  met: boolean
}

export interface BenchResult {
  /** The generated part of docs/performance.md: environment, tables, verdicts. */
  markdown: string
  targets: Target[]
  durationMs: number
}

export interface BenchValue {
  key: string
  kind: 'parameter' | 'secret'
  name: string
}

type Mode = 'cold' | 'off' | 'on'

const root = new URL('..', import.meta.url).pathname
const work = join(root, 'node_modules/.cache/middy-extension-secrets-bench')
// A dummy, never printed: the emulator accepts any non-empty token, the fake AWS checks no signature.
const sessionToken = 'bench-session-token'

/** Two secrets in every five values, as in the bench's 5-value handler (2 secrets, 3 parameters). */
export const benchValues = (count: number): BenchValue[] =>
  Array.from({ length: count }, (_, i) =>
    i % 5 < 2
      ? { key: `secret${i}`, kind: 'secret', name: `bench/secret-${i}` }
      : { key: `parameter${i}`, kind: 'parameter', name: `/bench/parameter-${i}` },
  )

// Plain text of typical lengths (a 40-character API key, a 24-character URL-ish parameter): not JSON,
// so every contender does the same parsing work. Deterministic filler, no real secret.
const valueText = (value: BenchValue): string =>
  value.kind === 'secret'
    ? `k-${value.name}-`.padEnd(40, 'x')
    : `https://${value.name.slice(1).replaceAll('/', '-')}.test`

const maxValues = 50

/** Builds the package as published, and two consumer folders: Middy 6 and Middy 7 (Node 22). */
const prepare = (log: (line: string) => void) => {
  rmSync(work, { recursive: true, force: true })
  log('building the package as published (npm run build)')
  rmSync(join(root, 'dist'), { recursive: true, force: true })
  const built = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' })
  if (built.status !== 0) throw new Error(`npm run build failed: ${built.stdout}${built.stderr}`)
  cpSync(join(root, 'dist'), join(work, 'dist'), { recursive: true })
  // Each consumer resolves `middy-extension-secrets` to a copy of the built package, and everything else
  // up the tree in the repository's node_modules. Middy 7's folder gets its own copies of @middy/core and
  // @middy/util (the aliased dev dependencies), which the package copy then resolves as a user's would.
  for (const consumer of ['middy6', 'middy7']) {
    const dir = join(work, consumer)
    const pkg = join(dir, 'node_modules/middy-extension-secrets')
    mkdirSync(pkg, { recursive: true })
    // Its own package scope, as a user's project has; bundlers would otherwise find this repository's
    // package.json above and resolve the package to itself.
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: `bench-${consumer}`, private: true, type: 'module' }),
    )
    cpSync(join(root, 'package.json'), join(pkg, 'package.json'))
    cpSync(join(work, 'dist'), join(pkg, 'dist'), { recursive: true })
    cpSync(join(root, 'bench/contenders'), join(dir, 'contenders'), { recursive: true })
    cpSync(join(root, 'bench/child'), join(dir, 'child'), { recursive: true })
    cpSync(join(root, 'bench/features'), join(dir, 'features'), { recursive: true })
  }
  cpSync(join(root, 'node_modules/middy7'), join(work, 'middy7/node_modules/@middy/core'), {
    recursive: true,
  })
  cpSync(join(root, 'node_modules/middy7-util'), join(work, 'middy7/node_modules/@middy/util'), {
    recursive: true,
  })
}

interface Child {
  stdout: string
  spawnedAt: number
}

const runChild = (node: string, script: string, config: unknown, env: NodeJS.ProcessEnv): Promise<Child> =>
  new Promise((resolve, reject) => {
    const spawnedAt = performance.timeOrigin + performance.now()
    const child = spawn(node, [script, JSON.stringify(config)], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolve({ stdout, spawnedAt })
      else reject(new Error(`${script} exited with ${code}: ${stderr.slice(0, 2000)}`))
    })
  })

/** A warm child that runs one batch per request (see child/warm.mjs). */
interface Worker {
  batch(): Promise<{ perInvocationUs: number; result: Summary }>
  close(): void
}

const startWorker = (
  node: string,
  script: string,
  config: unknown,
  env: NodeJS.ProcessEnv,
): Promise<Worker> =>
  new Promise((resolve, reject) => {
    const child = spawn(node, [script, JSON.stringify(config)], {
      env,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    })
    let stderr = ''
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk
    })
    let pending: ((reply: any) => void) | undefined
    let failed: ((error: Error) => void) | undefined = reject
    child.on('message', (reply: any) => {
      if (reply?.ready) {
        failed = undefined
        resolve({
          batch: () =>
            new Promise((resolveBatch, rejectBatch) => {
              pending = resolveBatch
              failed = rejectBatch
              child.send('batch')
            }),
          close: () => {
            if (child.connected) child.send('exit')
          },
        })
      } else {
        pending?.(reply)
      }
    })
    child.on('error', (error) => failed?.(error))
    child.on('exit', (code) => {
      if (code !== 0) failed?.(new Error(`${script} exited with ${code}: ${stderr.slice(0, 2000)}`))
    })
  })

interface Summary {
  count: number
  chars: number
}

/** A handler module as a user's bundler would ship it: esbuild, minified, for Node 20. */
const bundleOf = (entry: string, external: string[] = []) =>
  build({
    metafile: true,
    entryPoints: [entry],
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    external,
  })

export const runBench = async (options: BenchOptions): Promise<BenchResult> => {
  const began = performance.now()
  const log = options.log ?? (() => {})
  const { quick } = options
  prepare(log)

  const all = benchValues(maxValues)
  const parameters: Record<string, string> = {}
  const secrets: Record<string, string> = {}
  for (const value of all) (value.kind === 'secret' ? secrets : parameters)[value.name] = valueText(value)
  const expectedChars = (values: BenchValue[]) =>
    values.reduce((sum, value) => sum + valueText(value).length, 0)
  const check = (result: Summary, values: BenchValue[], what: string) => {
    if (result.count !== values.length || result.chars !== expectedChars(values)) {
      throw new Error(`${what} did not put every value on the context`)
    }
  }

  const emulatorModule = pathToFileURL(join(work, 'dist/emulator/index.js')).href
  const { startEmulator } = (await import(emulatorModule)) as typeof import('../src/emulator/index.js')
  const emulator = await startEmulator({ values: { parameters, secrets } })
  const fakeAws = await startFakeAws({ parameters, secrets })
  // Only what the contenders need, nothing from this shell's AWS set-up.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_SESSION_TOKEN: sessionToken,
    AWS_ACCESS_KEY_ID: 'AKIDBENCHMARK0000000',
    AWS_SECRET_ACCESS_KEY: 'bench-dummy-secret-access-key',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_SSM: fakeAws.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: fakeAws.url,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(work, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-aws-credentials'),
    PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(emulator.port),
  }

  const sections: string[] = []
  const targets: Target[] = []
  const addTarget = (target: string, value: number, limit: number, unit: string, below = true) => {
    const met = below ? value <= limit : value >= limit
    targets.push({ target, measured: `${fmt(value)}${unit}`, met })
  }

  try {
    // ---------- Cold start
    const five = benchValues(5)
    const coldContenders6 = ['floor', 'ours', 'raw', 'fetch', 'middy-sdk', 'powertools']
    const coldContenders7 = ['floor', 'ours', 'raw', 'fetch', 'powertools']
    const coldRounds = quick ? 1 : 11
    const cold = async (node: string, consumer: string, contenders: string[]) => {
      const samples = new Map<string, Record<string, number[]>>()
      for (let round = 0; round < coldRounds; round++) {
        // Rotate the order so no contender always follows another.
        for (let i = 0; i < contenders.length; i++) {
          const name = contenders[(i + round) % contenders.length]!
          const config = {
            contender: pathToFileURL(join(work, consumer, 'contenders', `${name}.mjs`)).href,
            values: name === 'floor' ? [] : five,
            mode: 'cold',
          }
          const child = await runChild(node, join(work, consumer, 'child/cold.mjs'), config, env)
          const out = JSON.parse(child.stdout)
          if (name !== 'floor') check(out.result, five, name)
          const s = samples.get(name) ?? {
            boot: [],
            import: [],
            create: [],
            ready: [],
            first: [],
            total: [],
            rss: [],
          }
          s.boot!.push(out.started - child.spawnedAt)
          s.import!.push(out.imported - out.started)
          s.create!.push(out.created - out.imported)
          s.first!.push(out.responded - out.created)
          s.total!.push(out.responded - child.spawnedAt)
          s.rss!.push(out.maxRssKiB / 1024)
          // Import and creation together: what a cold start pays before the first invocation.
          s.ready!.push(out.created - out.started)
          samples.set(name, s)
        }
      }
      const m = (name: string, key: string) => median(samples.get(name)![key]!)
      const rows = contenders.map((name) => [
        label(name),
        fmt(m(name, 'boot')),
        fmt(m(name, 'import')),
        fmt(m(name, 'create')),
        fmt(m(name, 'ready')),
        ratio(m(name, 'ready'), m('floor', 'ready')),
        name === 'floor' ? '–' : fmt(m(name, 'first')),
        name === 'floor' ? '–' : ratio(m(name, 'first'), m('raw', 'first')),
        fmt(m(name, 'total')),
        fmt(m(name, 'rss'), 1),
      ])
      return { m, rows }
    }
    const coldHeader = [
      'contender',
      'node boot ms',
      'import ms',
      'create ms',
      'import + create ms',
      '× floor',
      'first invocation ms',
      '× raw',
      'spawn → response ms',
      'peak RSS MiB',
    ]

    log('cold start: Node 20, Middy 6')
    const c6 = await cold(process.execPath, 'middy6', coldContenders6)
    sections.push(
      `## Cold start, Node ${process.version}, Middy 6\n\nMedian of ${coldRounds} fresh processes per contender, 5 values (2 secrets, 3 parameters), extension ready.\n\n${table(coldHeader, c6.rows)}`,
    )
    addTarget(
      'Import + creation, Node 20 / Middy 6: ≤ 1.25× the floor',
      c6.m('ours', 'ready') / c6.m('floor', 'ready'),
      1.25,
      '×',
    )
    addTarget(
      'Import + creation, Node 20 / Middy 6: ≤ 1/10 of @middy/ssm + @middy/secrets-manager',
      c6.m('ours', 'ready') / c6.m('middy-sdk', 'ready'),
      0.1,
      '×',
    )
    addTarget(
      'Cold first invocation: ≤ 1.3× the raw node:http script',
      c6.m('ours', 'first') / c6.m('raw', 'first'),
      1.3,
      '×',
    )
    addTarget(
      'Cold first invocation: faster than the fetch snippet',
      c6.m('ours', 'first') / c6.m('fetch', 'first'),
      1,
      '× fetch',
    )

    for (const [node, wanted] of [
      [options.node22, 22],
      [options.node24, 24],
    ] as const) {
      if (node === undefined) continue
      const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()
      log(`cold start: Node ${version}, Middy 7`)
      const c7 = await cold(node, 'middy7', coldContenders7)
      sections.push(
        `## Cold start, Node ${version}, Middy 7\n\nAs above. The SDK middlewares are left out: \`@middy/ssm\` and \`@middy/secrets-manager\` 6 need Middy 6.\n\n${table(coldHeader, c7.rows)}`,
      )
      addTarget(
        `Import + creation, Node ${wanted} / Middy 7: ≤ 1.25× the floor`,
        c7.m('ours', 'ready') / c7.m('floor', 'ready'),
        1.25,
        '×',
      )
    }

    // ---------- Bundle size
    log('bundle size')
    const bundleRows: string[][] = []
    const bundles = new Map<string, number>()
    const gzipped = new Map<string, number>()
    let ourInputs: [string, number][] = []
    for (const name of coldContenders6) {
      const result = await bundleOf(join(work, 'middy6/contenders', `${name}.mjs`))
      const code = result.outputFiles[0]!.contents
      bundles.set(name, code.byteLength)
      gzipped.set(name, gzipSync(code).byteLength)
      if (name === 'ours') {
        const output = Object.values(result.metafile.outputs)[0]!
        ourInputs = Object.entries(output.inputs)
          .map(([input, { bytesInOutput }]): [string, number] => [
            input
              .replace(/^.*\/contenders\//, 'bench/contenders/')
              .replace(/^.*node_modules\//, '')
              .replace(/^middy-extension-secrets\/dist\//, 'dist/'),
            bytesInOutput,
          ])
          .sort((a, b) => b[1] - a[1])
      }
      bundleRows.push([label(name), fmt(code.byteLength / 1024, 1), fmt(gzipSync(code).byteLength / 1024, 1)])
    }
    for (const row of bundleRows) {
      const name = coldContenders6[bundleRows.indexOf(row)]!
      row.push(ratio(bundles.get(name)!, bundles.get('middy-sdk')!, 3))
    }
    sections.push(
      `## Bundle size\n\n\`esbuild --bundle --minify --platform=node --format=esm\` of each contender's handler module.\n\n${table(['contender', 'KiB', 'gzip KiB', '× SDK middlewares'], bundleRows)}\n\nWhat this package's bundle holds (esbuild's metafile, minified bytes per input):\n\n${table(
        ['input', 'bytes'],
        ourInputs.filter(([, bytes]) => bytes > 0).map(([input, bytes]) => [`\`${input}\``, String(bytes)]),
      )}`,
    )
    addTarget(
      'Bundle (gzip, dependencies included): ≤ 1/35 of the SDK middlewares',
      gzipped.get('ours')! / gzipped.get('middy-sdk')!,
      1 / 35,
      '×',
    )

    // This package's own code per feature: Middy and p-retry left out, as a user's bundle shares them.
    const featureRows: string[][] = []
    const features = ['core', 'refresh-on', 'powertools', 'everything']
    const featureBytes = new Map<string, { min: number; gzip: number }>()
    for (const feature of features) {
      const result = await bundleOf(join(work, 'middy6/features', `${feature}.mjs`), [
        '@middy/core',
        '@middy/util',
        'p-retry',
      ])
      const code = result.outputFiles[0]!.contents
      featureBytes.set(feature, { min: code.byteLength, gzip: gzipSync(code).byteLength })
    }
    const core = featureBytes.get('core')!
    for (const feature of features) {
      const { min, gzip } = featureBytes.get(feature)!
      featureRows.push([
        `\`bench/features/${feature}.mjs\``,
        fmt(min / 1024, 1),
        fmt(gzip / 1024, 1),
        feature === 'core' ? '–' : `+${fmt((min - core.min) / 1024, 1)}`,
      ])
    }
    sections.push(
      `## Bytes per feature\n\nA handler's bundle of this package's code only (\`@middy/core\`, \`@middy/util\` and \`p-retry\` external, as every Middy handler has the first and a user's bundle shares the others), by what the handler imports.\n\n${table(['handler', 'KiB', 'gzip KiB', 'KiB over the core'], featureRows)}`,
    )
    addTarget(
      'Core handler (extensionSecrets, parameter, secret): ≤ 12 KiB minified',
      core.min / 1024,
      12,
      ' KiB',
    )
    addTarget('Core handler: ≤ 5 KiB gzip', core.gzip / 1024, 5, ' KiB')

    // ---------- Size of the source a reader holds
    const sourceLines = (files: string[]) =>
      files.reduce(
        (sum, file) => sum + readFileSync(join(root, 'src', file), 'utf8').split('\n').length - 1,
        0,
      )
    const mainModules = readdirSync(join(root, 'src')).filter(
      (file) => file.endsWith('.ts') && !['refresh-on.ts', 'powertools.ts'].includes(file),
    )
    const subpathModules = ['refresh-on.ts', 'powertools.ts']
    const indexText = readFileSync(join(root, 'src/index.ts'), 'utf8')
    const exported = [...indexText.matchAll(/export\s*(?:type\s*)?\{([^}]*)\}/g)].flatMap((match) =>
      match[1]!.split(',').filter((name) => name.trim() !== ''),
    ).length
    const coreLines = sourceLines(mainModules)
    sections.push(
      `## Size of the source\n\n${table(
        ['part', 'files', 'lines'],
        [
          ['main entry (`src/*.ts` behind `.`)', String(mainModules.length), String(coreLines)],
          [
            'subpaths `./refresh-on`, `./powertools`',
            String(subpathModules.length),
            String(sourceLines(subpathModules)),
          ],
        ],
      )}\n\nThe main entry exports ${exported} names.`,
    )
    addTarget('Core source (main entry modules): ≤ 1,500 lines', coreLines, 1500, ' lines')
    addTarget('Main entry: ≤ 25 exported names', exported, 25, ' names')

    // ---------- Warm invocations
    const warmRounds = quick ? 1 : 10
    const warmConfig = quick
      ? { warmup: 2, warmupMs: 0, batchMs: 5 }
      : { warmup: 200, warmupMs: 300, batchMs: 150 }
    /**
     * Median time per invocation (µs) of each contender. One child per contender, warmed up one after
     * the other; then their batches are interleaved, in rotating order, so that every contender is
     * measured under the same load.
     */
    const warm = async (contenders: string[], values: BenchValue[], mode: Mode, concurrency = 1) => {
      const samples = new Map<string, number[]>()
      const workers: [string, Worker][] = []
      try {
        for (const name of contenders) {
          const config = {
            contender: pathToFileURL(join(work, 'middy6/contenders', `${name}.mjs`)).href,
            values: name === 'floor' ? [] : values,
            mode,
            concurrency,
            ...warmConfig,
          }
          workers.push([
            name,
            await startWorker(process.execPath, join(work, 'middy6/child/warm.mjs'), config, env),
          ])
        }
        for (let round = 0; round < warmRounds; round++) {
          for (let i = 0; i < workers.length; i++) {
            const [name, worker] = workers[(i + round) % workers.length]!
            const out = await worker.batch()
            if (name !== 'floor') check(out.result, values, name)
            samples.set(name, [...(samples.get(name) ?? []), out.perInvocationUs])
          }
        }
      } finally {
        for (const [, worker] of workers) worker.close()
      }
      return (name: string) => median(samples.get(name)!)
    }

    log('warm invocations, cache off')
    const offContenders = ['raw', 'ours', 'fetch', 'middy-sdk', 'powertools']
    const offSizes = [1, 5, 20]
    const offResults: ((name: string) => number)[] = []
    for (const size of offSizes) offResults.push(await warm(offContenders, benchValues(size), 'off'))
    sections.push(
      `## Warm invocations, cache off\n\nMedian µs per invocation (× the raw keep-alive node:http limit). Each contender asks every invocation: this package with its default \`cacheExpiry: 0\`, \`@middy/ssm\` / \`@middy/secrets-manager\` with \`cacheExpiry: 0\`, Powertools with \`maxAge: 0\`. The extension-based contenders read from the emulator (its cache on, as the layer's), the SDK-based ones from the local fake of the AWS APIs.\n\n${table(
        ['contender', ...offSizes.map((size) => `${size} value${size === 1 ? '' : 's'}`)],
        offContenders.map((name) => [
          label(name),
          ...offResults.map((us) => `${fmt(us(name))} (${ratio(us(name), us('raw'))})`),
        ]),
      )}`,
    )
    const off5 = offResults[1]!
    addTarget(
      'Warm, cache off, 5 values: ≤ 1.1× raw keep-alive node:http',
      off5('ours') / off5('raw'),
      1.1,
      '×',
    )

    log('warm invocations, cache on')
    const onContenders = ['floor', 'ours', 'middy-sdk', 'powertools']
    const on = await warm(onContenders, five, 'on')
    sections.push(
      `## Warm invocations, cache on\n\nMedian µs per invocation, 5 values, every value cached in the process (this package \`cacheExpiry: -1\`, the SDK middlewares' default \`-1\`, Powertools \`maxAge\` one day), against a bare Middy handler with no middleware.\n\n${table(
        ['contender', 'µs per invocation', '× bare Middy', 'overhead µs'],
        onContenders.map((name) => [
          label(name === 'floor' ? 'bare' : name),
          fmt(on(name), 2),
          ratio(on(name), on('floor')),
          fmt(on(name) - on('floor'), 2),
        ]),
      )}`,
    )
    addTarget('Warm, cache on: < 2× a bare Middy invocation', on('ours') / on('floor'), 2, '×')

    // ---------- Readiness
    log('readiness')
    const readinessRows: string[][] = []
    // The quick run shortens the scenarios tenfold: it only checks that the path works.
    for (const unreadyMs of quick ? [60, 300] : [600, 3000]) {
      const trials = quick ? 1 : unreadyMs < 1000 ? 11 : 5
      const child = await runChild(
        process.execPath,
        join(work, 'middy6/child/readiness.mjs'),
        {
          contender: pathToFileURL(join(work, 'middy6/contenders/ours.mjs')).href,
          values: five,
          emulatorValues: { parameters, secrets },
          unreadyMs,
          trials,
        },
        env,
      )
      const out = JSON.parse(child.stdout) as { delaysMs: number[]; requests: number[]; notReady: number[] }
      const delay = median(out.delaysMs)
      readinessRows.push([
        `${unreadyMs} ms`,
        String(trials),
        fmt(delay),
        fmt(Math.max(...out.delaysMs)),
        fmt(median(out.notReady), 0),
        fmt(median(out.requests), 0),
      ])
      if (unreadyMs === 600 || quick) {
        addTarget(
          `Readiness, unready ${unreadyMs} ms: handler starts ≤ 6 ms after ready (median)`,
          delay,
          6,
          ' ms',
        )
        // 0.1, where each key polled on its own, got 75 not-ready answers in this scenario.
        addTarget(
          `Readiness, unready ${unreadyMs} ms: not-ready answers ≤ 75 (0.1's count)`,
          median(out.notReady),
          75,
          '',
        )
      }
    }
    sections.push(
      `## Readiness\n\nThe first invocation of a fresh handler (5 values) starts while the extension is unready: connections refused for the first half, the not-ready 400 for the second. Delay from the moment it serves to the moment the handler runs; the answers the extension gave meanwhile.\n\n${table(
        [
          'unready for',
          'trials',
          'median delay ms',
          'worst ms',
          'not-ready answers (median)',
          'requests answered (median)',
        ],
        readinessRows,
      )}`,
    )

    // ---------- Scale
    log('scale: number of values')
    const counts = quick ? [1, 5] : [1, 5, 10, 20, 50]
    const byCount: ((name: string) => number)[] = []
    for (const count of counts) byCount.push(await warm(['raw', 'ours'], benchValues(count), 'off'))
    const perValue = (i: number, name: string) => byCount[i]!(name) / counts[i]!
    sections.push(
      `## Scale: number of values\n\nCache off, one invocation at a time: median µs per invocation and per value.\n\n${table(
        ['values', 'this package µs', 'µs per value', 'raw node:http µs', 'µs per value', '× raw'],
        counts.map((count, i) => [
          String(count),
          fmt(byCount[i]!('ours')),
          fmt(perValue(i, 'ours'), 1),
          fmt(byCount[i]!('raw')),
          fmt(perValue(i, 'raw'), 1),
          ratio(byCount[i]!('ours'), byCount[i]!('raw')),
        ]),
      )}`,
    )
    const last = counts.length - 1
    addTarget(
      `Growth with values: µs per value at ${counts[last]} values ÷ at 1 value ≤ 1 (linear or better)`,
      perValue(last, 'ours') / perValue(0, 'ours'),
      1,
      '×',
    )

    log('scale: concurrent invocations')
    const levels = quick ? [1, 4] : [1, 4, 16, 64]
    const byLevel: { cached: (name: string) => number; uncached: (name: string) => number }[] = []
    for (const level of levels) {
      const cached = await warm(['floor', 'ours'], five, 'on', level)
      const uncached = await warm(['raw', 'ours'], five, 'off', level)
      byLevel.push({ cached, uncached })
    }
    sections.push(
      `## Scale: concurrent invocations in one process\n\n5 values; \`concurrency\` invocations started together (as Lambda Managed Instances run them), median µs per invocation. Cache on: this package with \`cacheExpiry: -1\` against bare Middy; cache off: against raw node:http.\n\n${table(
        ['concurrent', 'cached µs', 'bare Middy µs', '× bare', 'uncached µs', 'raw µs', '× raw'],
        levels.map((level, i) => {
          const { cached, uncached } = byLevel[i]!
          return [
            String(level),
            fmt(cached('ours'), 2),
            fmt(cached('floor'), 2),
            ratio(cached('ours'), cached('floor')),
            fmt(uncached('ours')),
            fmt(uncached('raw')),
            ratio(uncached('ours'), uncached('raw')),
          ]
        }),
      )}`,
    )
    const top = byLevel.length - 1
    // Each level is its own processes, so the cost is read against bare Middy at the same level.
    const overBare = (i: number) => byLevel[i]!.cached('ours') / byLevel[i]!.cached('floor')
    addTarget(
      `No growth with concurrency when cached: (× bare Middy) at ${levels[top]} ÷ at 1 ≤ 1.25`,
      overBare(top) / overBare(0),
      1.25,
      '×',
    )

    sections.push(costTable())
  } finally {
    await emulator.close()
    await fakeAws.close()
  }

  const durationMs = performance.now() - began
  const head = [
    `Generated by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${fmt(totalmem() / 2 ** 30, 1)} GiB, ${process.platform} ${process.arch}, Node ${process.version}${options.node22 ? ', Node 22 and 24 (from `.ci/node22`, `.ci/node24`)' : ''}; peers: ${peerVersions()}. The run took ${fmt(durationMs / 1000, 0)} s${quick ? ' (quick smoke run: counts too small to read)' : ''}. Absolute times on a shared machine vary; the ratios, taken in the same run, are what the targets are about.`,
    `## Targets\n\n${table(
      ['target', 'measured', 'met'],
      targets.map((t) => [t.target, t.measured, t.met ? 'yes' : '**no**']),
    )}`,
  ]
  return { markdown: [...head, ...sections].join('\n\n'), targets, durationMs }
}

const labels: Record<string, string> = {
  floor: 'floor (`@middy/core` + `node:http`, no middleware)',
  bare: 'bare Middy, no middleware',
  ours: '**middy-extension-secrets**',
  raw: 'raw `node:http` (keep-alive)',
  fetch: '`fetch` snippet (AWS docs)',
  'middy-sdk': '`@middy/ssm` + `@middy/secrets-manager` (SDK)',
  powertools: '`@aws-lambda-powertools/parameters` (SDK)',
}
const label = (name: string) => labels[name] ?? name

const peerVersions = () =>
  [
    '@middy/core',
    '@middy/ssm',
    '@middy/secrets-manager',
    '@aws-sdk/client-ssm',
    '@aws-sdk/client-secrets-manager',
    '@aws-lambda-powertools/parameters',
    'middy7',
  ]
    .map((name) => {
      const file = join(root, 'node_modules', name, 'package.json')
      const { version } = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { version: '?' }
      return `${name === 'middy7' ? '@middy/core (7)' : name} ${version}`
    })
    .join(', ')
