import { parseArgs } from 'node:util'
import type { DeploymentOptions, ExtensionSettings } from '../deploy/index.js'

export const commandName = 'extension-secrets-policy'

// CloudFormation's pseudo parameter: the printed policy can go into a SAM template through !Sub as it is.
// biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation placeholder, printed as text
export const defaultAccount = '${AWS::AccountId}'

export const usage = `Usage: ${commandName} --module FILE --region REGION [options]

Prints what a Lambda function needs to read its configuration through the AWS Parameters and Secrets
Lambda Extension: the layer ARN, the layer's environment variables and the IAM policy document that
grants exactly the parameters and secrets the configuration names. FILE is a module (.js, .mjs; .ts
when Node runs TypeScript, e.g. NODE_OPTIONS='--import tsx') exporting the handler's fetchData record
or its middleware options.

Options:
  --module FILE          the module to import (required)
  --export NAME          the export holding the configuration (default: the default export if there is
                         one, else the module itself, which must then export fetchData)
  --region REGION        the function's region (required)
  --account ACCOUNT      the function's account (default ${defaultAccount}, for a SAM or CloudFormation
                         template's !Sub)
  --architecture ARCH    x86_64 (default) or arm64
  --kms-key-arn ARN      a customer-managed KMS key of a value the function reads (repeatable)
  --layer-version N      the layer version to use instead of this package's table
  --layer-arn ARN        the layer ARN, for a region the table does not list
  --cache-expiry MS      the middleware's cacheExpiry, if the module's configuration does not carry it
  --secrets-manager-ttl S, --parameter-store-ttl S      the layer's TTLs in seconds (0 to 300;
                         default: from cacheExpiry)
  --log-level LEVEL      debug, info, warn, error or none
  --cache-enabled BOOL, --cache-size N, --max-connections N, --http-port N,
  --secrets-manager-timeout-millis N, --parameter-store-timeout-millis N
                         the layer's other settings (see docs/deploying.md)
  --format FORMAT        text (default) or json
  -h, --help             show this help`

/** A mistake on the command line: the message names the flag. */
export class UsageError extends Error {
  override name = 'UsageError'
}

const flags = {
  module: { type: 'string' },
  export: { type: 'string' },
  region: { type: 'string' },
  account: { type: 'string' },
  architecture: { type: 'string' },
  'kms-key-arn': { type: 'string', multiple: true },
  'layer-version': { type: 'string' },
  'layer-arn': { type: 'string' },
  'cache-expiry': { type: 'string' },
  'secrets-manager-ttl': { type: 'string' },
  'parameter-store-ttl': { type: 'string' },
  'log-level': { type: 'string' },
  'cache-enabled': { type: 'string' },
  'cache-size': { type: 'string' },
  'max-connections': { type: 'string' },
  'http-port': { type: 'string' },
  'secrets-manager-timeout-millis': { type: 'string' },
  'parameter-store-timeout-millis': { type: 'string' },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

// Settings by flag; their ranges are checked where the setting is defined (src/deploy/environment.ts).
const integerSettings = {
  'secrets-manager-ttl': 'secretsManagerTtl',
  'parameter-store-ttl': 'parameterStoreTtl',
  'cache-size': 'cacheSize',
  'max-connections': 'maxConnections',
  'http-port': 'httpPort',
  'secrets-manager-timeout-millis': 'secretsManagerTimeoutMillis',
  'parameter-store-timeout-millis': 'parameterStoreTimeoutMillis',
} as const satisfies Record<string, keyof ExtensionSettings>

export interface PolicyCommand {
  modulePath: string
  exportName: string | undefined
  format: 'text' | 'json'
  options: DeploymentOptions
}

export type Command = { kind: 'help' } | { kind: 'run'; command: PolicyCommand }

const integer = (text: string | undefined, flag: string, allowMinusOne = false): number | undefined => {
  if (text === undefined) return undefined
  if (!/^\d+$/.test(text) && !(allowMinusOne && text === '-1'))
    throw new UsageError(
      `--${flag}: expected ${allowMinusOne ? '-1 or ' : ''}a whole number, got ${JSON.stringify(text)}`,
    )
  return Number(text)
}

/** @throws UsageError for an unknown or repeated flag, a missing or malformed value, or a stray argument */
export function parseCommandLine(argv: readonly string[]): Command {
  // Non-strict, with tokens, so that every message is ours and names the flag.
  const { values, tokens } = parseArgs({ args: [...argv], options: flags, strict: false, tokens: true })
  const seen = new Set<string>()
  for (const token of tokens) {
    if (token.kind === 'positional')
      throw new UsageError('unexpected argument: every value follows its flag, as in --module ./config.js')
    if (token.kind !== 'option') continue
    const flag = token.rawName.split('=')[0]!
    if (!Object.hasOwn(flags, token.name)) throw new UsageError(`unknown option ${flag}`)
    const spec = flags[token.name as keyof typeof flags]
    if (seen.has(token.name) && !('multiple' in spec)) throw new UsageError(`${flag} given twice`)
    seen.add(token.name)
    if (spec.type === 'boolean' && token.inlineValue) throw new UsageError(`${flag} takes no value`)
    if (spec.type === 'string') {
      if (token.value === undefined || token.value === '')
        throw new UsageError(`--${token.name}: missing value`)
      // parseArgs takes the next argument whatever it is; a flag there means the value was forgotten
      // (-1 is a value: cacheExpiry's "for the life of the environment").
      if (!token.inlineValue && token.value.startsWith('-') && token.value !== '-1')
        throw new UsageError(`--${token.name}: missing value`)
    }
  }
  if (values.help) return { kind: 'help' }
  const text = (name: keyof typeof flags) => values[name] as string | undefined
  const modulePath = text('module')
  const region = text('region')
  if (modulePath === undefined)
    throw new UsageError('--module is required: the module exporting the configuration')
  if (region === undefined) throw new UsageError('--region is required: the layer and the ARNs depend on it')
  const format = text('format') ?? 'text'
  if (format !== 'text' && format !== 'json')
    throw new UsageError(`--format: expected text or json, got ${JSON.stringify(format)}`)
  const architecture = text('architecture') ?? 'x86_64'
  if (architecture !== 'x86_64' && architecture !== 'arm64')
    throw new UsageError(`--architecture: expected x86_64 or arm64, got ${JSON.stringify(architecture)}`)

  const settings: ExtensionSettings = {}
  for (const [flag, setting] of Object.entries(integerSettings)) {
    const value = integer(text(flag as keyof typeof flags), flag)
    if (value !== undefined) settings[setting] = value
  }
  const logLevel = text('log-level')
  if (logLevel !== undefined) settings.logLevel = logLevel as ExtensionSettings['logLevel']
  const cacheEnabled = text('cache-enabled')
  if (cacheEnabled !== undefined) {
    if (cacheEnabled !== 'true' && cacheEnabled !== 'false')
      throw new UsageError(`--cache-enabled: expected true or false, got ${JSON.stringify(cacheEnabled)}`)
    settings.cacheEnabled = cacheEnabled === 'true'
  }

  const options: DeploymentOptions = {
    region,
    account: text('account') ?? defaultAccount,
    architecture,
    settings,
  }
  const kmsKeyArns = values['kms-key-arn'] as string[] | undefined
  if (kmsKeyArns !== undefined) options.kmsKeyArns = kmsKeyArns
  const layerVersion = integer(text('layer-version'), 'layer-version')
  if (layerVersion !== undefined) options.layerVersion = layerVersion
  const layerArn = text('layer-arn')
  if (layerArn !== undefined) options.layerArn = layerArn
  const cacheExpiry = integer(text('cache-expiry'), 'cache-expiry', true)
  if (cacheExpiry !== undefined) options.cacheExpiry = cacheExpiry
  return { kind: 'run', command: { modulePath, exportName: text('export'), format, options } }
}
