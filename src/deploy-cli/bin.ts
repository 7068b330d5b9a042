#!/usr/bin/env node
// The `extension-secrets-policy` command: see run.ts for its exit codes and args.ts for its flags.
import { runPolicyCommand } from './run.js'

process.exitCode = await runPolicyCommand(process.argv.slice(2), process.cwd(), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
})
