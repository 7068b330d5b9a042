/**
 * A reader for the subset of HCL the Terraform example uses: blocks with labels, attributes whose values
 * are strings, lists, objects or references. Enough to check what a test needs; not a Terraform parser.
 * No HCL parser on npm is both maintained and free of stray runtime dependencies.
 */
export type HclValue = string | HclValue[] | { [key: string]: HclValue } | { ref: string }

export interface HclBlock {
  type: string
  labels: string[]
  attributes: Record<string, HclValue>
  blocks: HclBlock[]
}

export const parseHcl = (source: string): HclBlock[] => {
  const text = stripComments(source)
  let at = 0

  const fail = (problem: string): never => {
    const line = text.slice(0, at).split('\n').length
    throw new SyntaxError(`HCL line ${line}: ${problem}`)
  }
  const skipSpace = (newlines: boolean) => {
    const pattern = newlines ? /[\s,]/ : /[ \t]/
    while (at < text.length && pattern.test(text[at]!)) at++
  }
  const identifier = (): string => {
    const match = /^[A-Za-z_][\w-]*/.exec(text.slice(at))
    if (!match) fail(`expected a name at ${JSON.stringify(text.slice(at, at + 20))}`)
    at += match![0].length
    return match![0]
  }
  const quoted = (): string => {
    // `${...}` interpolations may hold quotes of their own.
    let out = ''
    let depth = 0
    at++
    while (at < text.length) {
      const char = text[at]!
      if (depth === 0 && char === '"') {
        at++
        return out
      }
      if (char === '\\') {
        out += text.slice(at, at + 2)
        at += 2
        continue
      }
      if (char === '$' && text[at + 1] === '{') depth++
      else if (char === '}' && depth > 0) depth--
      out += char
      at++
    }
    return fail('unterminated string')
  }
  const value = (): HclValue => {
    skipSpace(false)
    const char = text[at]
    if (char === '"') return quoted()
    if (char === '[') {
      at++
      const items: HclValue[] = []
      for (;;) {
        skipSpace(true)
        if (text[at] === ']') {
          at++
          return items
        }
        items.push(value())
      }
    }
    if (char === '{') {
      at++
      const entries: Record<string, HclValue> = {}
      for (;;) {
        skipSpace(true)
        if (text[at] === '}') {
          at++
          return entries
        }
        const key = text[at] === '"' ? quoted() : identifier()
        skipSpace(false)
        if (text[at] !== '=' && text[at] !== ':') fail(`expected = after ${key}`)
        at++
        entries[key] = value()
      }
    }
    const match = /^[^\s,\]}]+/.exec(text.slice(at))
    if (!match) fail('expected a value')
    at += match![0].length
    return { ref: match![0] }
  }
  const body = (closing: boolean): Omit<HclBlock, 'type' | 'labels'> => {
    const attributes: Record<string, HclValue> = {}
    const blocks: HclBlock[] = []
    for (;;) {
      skipSpace(true)
      if (at >= text.length) {
        if (closing) fail('missing }')
        return { attributes, blocks }
      }
      if (text[at] === '}') {
        if (!closing) fail('unexpected }')
        at++
        return { attributes, blocks }
      }
      const name = identifier()
      skipSpace(false)
      if (text[at] === '=') {
        at++
        attributes[name] = value()
        continue
      }
      const labels: string[] = []
      while (text[at] === '"') {
        labels.push(quoted())
        skipSpace(false)
      }
      if (text[at] !== '{') fail(`expected { after ${name}`)
      at++
      blocks.push({ type: name, labels, ...body(true) })
    }
  }
  return body(false).blocks
}

// Comments are blanked out with spaces so that positions, and line numbers in errors, stay true.
const stripComments = (source: string): string =>
  source.replace(/"(?:[^"\\]|\\.)*"|#[^\n]*|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (match) =>
    match.startsWith('"') ? match : match.replace(/[^\n]/g, ' '),
  )
