import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, test } from 'vitest'
import { extensionSecrets, parameter, secret } from '../src/index.js'

// The type checker refuses what the run-time checks refuse, in a sentence a user can act on (issue 11,
// finding 14). test/types.test-d.ts pins that each mistake is an error; this file compiles the same
// mistakes and reads the messages, then checks that the run-time check still refuses each one for
// JavaScript users.

const here = fileURLToPath(new URL('.', import.meta.url))
const virtualFile = `${here}__type-messages__.ts`

/** Each mistake: the code, the words its type error must contain, and the same mistake at run time. */
const mistakes: { code: string; says: string; atRunTime?: () => unknown }[] = [
  {
    code: `parameter('/a', { version: 2, label: 'Prod' })`,
    says: 'a parameter takes `version` or `label`, not both',
    atRunTime: () =>
      extensionSecrets({ fetchData: { a: parameter('/a', { version: 2, label: 'Prod' } as never) } }),
  },
  {
    code: `secret('a', { versionId: 'v1', versionStage: 'AWSPREVIOUS' })`,
    says: 'a secret takes `versionId` or `versionStage`, not both',
    atRunTime: () =>
      extensionSecrets({
        fetchData: { a: secret('a', { versionId: 'v1', versionStage: 'AWSPREVIOUS' } as never) },
      }),
  },
  {
    code: `secret('a', { field: 'password', parse: 'text' })`,
    says: "`field` needs parse 'auto' or 'json'",
    atRunTime: () =>
      extensionSecrets({ fetchData: { a: secret('a', { field: 'password', parse: 'text' } as never) } }),
  },
  {
    code: `extensionSecrets({ fetchData: { a: { secret: 'a', field: 'password', parse: 'text' } } })`,
    says: "`field` needs parse 'auto' or 'json'",
  },
  {
    code: `extensionSecrets({ fetchData: { awsRequestId: parameter('/a') } })`,
    says: "'awsRequestId' would replace a member of the Lambda context: choose another key",
    atRunTime: () => extensionSecrets({ fetchData: { awsRequestId: parameter('/a') } } as never),
  },
  {
    code: `extensionSecrets({ fetchData: { step: parameter('/a') } })`,
    says: "'step' would replace a member of the Lambda context: choose another key",
    atRunTime: () => extensionSecrets({ fetchData: { step: parameter('/a') } } as never),
  },
  {
    code: `extensionSecrets({ fetchData: { 'db-password': secret('prod/db') } })`,
    says: "'db-password' is not a JavaScript identifier: keys are used as they are on the context",
    atRunTime: () => extensionSecrets({ fetchData: { 'db-password': secret('prod/db') } } as never),
  },
  {
    code: `extensionSecrets({ fetchData: { a: parameter('/a') }, cachExpiry: 1 })`,
    says: "'cachExpiry' is not an option here",
    atRunTime: () => extensionSecrets({ fetchData: { a: parameter('/a') }, cachExpiry: 1 } as never),
  },
  {
    code: `extensionSecrets({ fetchData: { a: { parameter: '/a', verison: 3 } } })`,
    says: "'verison' is not an option here",
    atRunTime: () => extensionSecrets({ fetchData: { a: { parameter: '/a', verison: 3 } } } as never),
  },
  {
    code: `secret<{ password: string }>('prod/db', { versionStage: 'AWSPENDING', optional: true })`,
    says: '`optional: true` needs one that includes undefined',
  },
]

/** Compiles the mistakes, one per line, and returns each line's messages. */
const typeErrorsByLine = (): string[][] => {
  const configPath = fileURLToPath(new URL('../tsconfig.json', import.meta.url))
  const config = ts.readConfigFile(configPath, ts.sys.readFile)
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, `${here}..`)
  const source = [
    `import { extensionSecrets, parameter, secret } from '../src/index.js'`,
    ...mistakes.map((mistake) => `${mistake.code}`),
  ].join('\n')
  const host = ts.createCompilerHost(options)
  const { getSourceFile, fileExists, readFile } = host
  host.getSourceFile = (name, language, ...rest) =>
    name === virtualFile
      ? ts.createSourceFile(name, source, language)
      : getSourceFile.call(host, name, language, ...rest)
  host.fileExists = (name) => name === virtualFile || fileExists.call(host, name)
  host.readFile = (name) => (name === virtualFile ? source : readFile.call(host, name))
  const program = ts.createProgram([virtualFile], { ...options, noEmit: true }, host)
  const file = program.getSourceFile(virtualFile)!
  const byLine: string[][] = mistakes.map(() => [])
  for (const diagnostic of program.getSemanticDiagnostics(file)) {
    const line = file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line
    byLine[line - 1]?.push(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
  }
  return byLine
}

describe('mistakes refused by the type checker, in a sentence', () => {
  const byLine = typeErrorsByLine()
  test.each(mistakes.map((mistake, index) => [mistake.code, mistake.says, index] as const))(
    '%s',
    (_code, says, index) => {
      expect(byLine[index]!.join('\n')).toContain(says)
      // Never the bare wording TypeScript gives without these messages.
      expect(byLine[index]!.join('\n')).not.toMatch(/not assignable to type 'never'/)
    },
  )
})

describe('and still refused at run time, for JavaScript users', () => {
  test.each(
    mistakes.filter((mistake) => mistake.atRunTime).map((mistake) => [mistake.code, mistake] as const),
  )('%s', (_code, mistake) => {
    expect(mistake.atRunTime).toThrow(TypeError)
  })
})
