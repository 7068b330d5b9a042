import { commandName, parseCommandLine, UsageError, usage } from './args.js'
import { ConfigError, computeDeployment, formatDeployment } from './policy-command.js'

export interface Output {
  out: (text: string) => void
  err: (text: string) => void
}

/**
 * Runs the command as its bin does, with the output and working folder given.
 *
 * @returns the exit code: 0 printed (or --help), 1 the configuration could not be read or was refused,
 *   2 a mistake on the command line
 */
export async function runPolicyCommand(
  argv: readonly string[],
  cwd: string,
  output: Output,
): Promise<number> {
  try {
    const parsed = parseCommandLine(argv)
    if (parsed.kind === 'help') {
      output.out(usage)
      return 0
    }
    const deployment = await computeDeployment(parsed.command, cwd)
    output.out(formatDeployment(deployment, parsed.command.format))
    return 0
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`${commandName}: ${error.message}\nRun ${commandName} --help for usage.`)
      return 2
    }
    if (error instanceof ConfigError) {
      output.err(`${commandName}: ${error.message}`)
      return 1
    }
    throw error
  }
}
