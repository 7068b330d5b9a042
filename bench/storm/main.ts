import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runStormBench } from './storm-bench.js'

// `npm run bench:storm`: runs the storm bench and rewrites the generated parts of docs/scaling.md (between
// `<!-- storm:NAME -->` and `<!-- /storm:NAME -->`) and its plot. `--quick` runs tiny sizes and leaves the
// docs alone (it still builds `dist` and the environments' consumer folder, as every run does).

const root = new URL('../..', import.meta.url).pathname
const quick = process.argv.includes('--quick')
const { generated, svg, plotFile } = await runStormBench({ quick, log: (line) => console.log(`== ${line}`) })
console.log(Object.values(generated).join('\n\n'))
if (!quick) {
  const page = join(root, 'docs/scaling.md')
  let text = readFileSync(page, 'utf8')
  for (const [name, content] of Object.entries(generated)) {
    const pattern = new RegExp(`<!-- storm:${name} -->[\\s\\S]*?<!-- /storm:${name} -->`)
    if (!pattern.test(text)) throw new Error(`docs/scaling.md has no storm:${name} block`)
    text = text.replace(pattern, () => `<!-- storm:${name} -->\n${content}\n<!-- /storm:${name} -->`)
  }
  writeFileSync(page, text)
  writeFileSync(join(root, 'docs', plotFile), svg)
  // Formatted as the rest of the repository is, so that the lint in `npm test` stays green after a run.
  const formatted = spawnSync('npx', ['biome', 'format', '--write', 'docs/scaling.md'], { cwd: root })
  if (formatted.status !== 0)
    console.log('== biome could not format docs/scaling.md: `npm run lint` will say why')
  console.log(`== wrote docs/scaling.md and docs/${plotFile}`)
}
