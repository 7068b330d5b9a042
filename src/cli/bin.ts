#!/usr/bin/env node
// The `extension-secrets-emulator` command. Exit codes: 0 stopped by SIGINT/SIGTERM or --help,
// 1 could not start, 2 a mistake on the command line.
import { commandName, parseCommandLine, UsageError, usage } from './args.js'
import { StartError, startEmulatorCommand } from './emulator-command.js'

const output = {
  out: (line: string) => process.stdout.write(`${line}\n`),
  err: (line: string) => process.stderr.write(`${line}\n`),
}

try {
  const command = parseCommandLine(process.argv.slice(2), process.env)
  if (command.kind === 'help') {
    output.out(usage)
  } else {
    const starting = startEmulatorCommand(command.options, output)
    // Listening for signals before anything is printed: whoever reads the banner may stop it at once.
    const stop = async (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      const running = await starting.catch(() => undefined)
      if (running === undefined) return
      await running.close()
      output.out(`${commandName}: stopped (${signal})`)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    // `kill -HUP <pid>` rehearses a cold start again without a restart.
    process.on('SIGHUP', () => {
      void starting.then(
        (running) => running.coldStart(),
        () => undefined,
      )
    })
    await starting
  }
} catch (error) {
  if (error instanceof UsageError) {
    output.err(`${commandName}: ${error.message}\nRun ${commandName} --help for usage.`)
    process.exitCode = 2
  } else if (error instanceof StartError) {
    output.err(`${commandName}: ${error.message}`)
    process.exitCode = 1
  } else {
    throw error
  }
}
