import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const packages = ['core', 'logging', 'health', 'metrics', 'rate-limit', 'store', 'audit', 'security-log', 'alerts', 'error-reports', 'outbound', 'suite', 'console']

// Tests import every @opskit package from its TypeScript source, so `pnpm test` needs no build
// and a process holds exactly one copy of @opskit/core (one AsyncLocalStorage).
const alias = Object.fromEntries(
  packages.map((name) => [`@opskit/${name}`, fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url))]),
)

export default defineConfig({
  resolve: { alias },
  test: {
    projects: packages.map((name) => ({
      extends: true,
      test: { name, root: `packages/${name}`, include: ['test/**/*.test.ts'] },
    })),
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
})
