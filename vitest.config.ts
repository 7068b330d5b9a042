import { defineConfig } from 'vitest/config'

// MIDDY_MAJOR=7 runs the same suite against Middy 7 (installed as the aliased dev dependencies
// `middy7` and `middy7-util`), so one lockfile covers both majors.
const middy7 = process.env.MIDDY_MAJOR === '7'

export default defineConfig({
  resolve: {
    alias: middy7
      ? [
          { find: /^@middy\/core$/, replacement: 'middy7' },
          { find: /^@middy\/util$/, replacement: 'middy7-util' },
        ]
      : [],
  },
  test: {
    include: ['test/**/*.test.ts'],
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 15_000,
  },
})
