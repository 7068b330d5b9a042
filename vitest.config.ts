import { defineConfig } from 'vitest/config'

// MIDDY_MAJOR=7 runs the same suite against Middy 7 (installed as the aliased dev dependencies
// `middy7` and `middy7-util`), so one lockfile covers both majors.
const middy7 = process.env.MIDDY_MAJOR === '7'
const here = (path: string) => new URL(path, import.meta.url).pathname

// Examples import the package by its published name, as users do.
const packageAliases = [
  { find: /^middy-extension-secrets$/, replacement: here('./src/index.ts') },
  { find: /^middy-extension-secrets\/emulator$/, replacement: here('./src/emulator/index.ts') },
  { find: /^middy-extension-secrets\/refresh-on$/, replacement: here('./src/refresh-on.ts') },
  { find: /^middy-extension-secrets\/powertools$/, replacement: here('./src/powertools.ts') },
  { find: /^middy-extension-secrets\/deploy$/, replacement: here('./src/deploy/index.ts') },
  { find: /^middy-extension-secrets\/cdk$/, replacement: here('./src/deploy/cdk.ts') },
]

export default defineConfig({
  resolve: {
    alias: [
      ...packageAliases,
      ...(middy7
        ? [
            { find: /^@middy\/core$/, replacement: 'middy7' },
            { find: /^@middy\/util$/, replacement: 'middy7-util' },
          ]
        : []),
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 15_000,
  },
})
