import { readFile } from 'node:fs/promises'
import { expect, it } from 'vitest'

// `pnpm typecheck` compiles test/usage.example.ts; this keeps the README's Usage block the same code.
it('the README Usage block is test/usage.example.ts', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const usage = /## Usage\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  expect(usage).toBe(await readFile(new URL('./usage.example.ts', import.meta.url), 'utf8'))
})
