import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { redact } from '@opskit/core'
import corpus from './fixtures/secrets-corpus.json' with { type: 'json' }

interface SecretCase { name: string; value: unknown; leak: string[] }

const strings = corpus.strings as SecretCase[]
const secrets: SecretCase[] = [...strings, ...(corpus.numbers as SecretCase[]), ...(corpus.keys as SecretCase[])]
const benign: unknown[] = [...corpus.benign.strings, ...corpus.benign.numbers, ...corpus.benign.keys]

/** Every way a value reaches redact(): as is, under a neutral key, in an array, nested, as an Error message. */
function shapes(value: unknown): unknown[] {
  const out: unknown[] = [value, { note: value }, [value], { a: { b: [{ c: value }] } }]
  if (typeof value === 'string') out.push(new Error(value), { err: new Error('wrapped', { cause: new Error(value) }) })
  return out
}

function leaks(c: SecretCase): string[] {
  const found: string[] = []
  for (const input of shapes(c.value)) {
    const text = JSON.stringify(redact(input))
    for (const secret of c.leak) if (text.includes(secret)) found.push(`${c.name}: ${text}`)
  }
  return found
}

describe('secrets corpus (test/fixtures/secrets-corpus.json) through redact()', () => {
  it(`masks all ${secrets.length} secrets in every position: 0 leaks`, () => {
    expect(secrets.flatMap(leaks)).toEqual([])
  })

  it(`leaves all ${benign.length} benign values unchanged: 0 false positives`, () => {
    const changed = benign.filter((value) => JSON.stringify(redact({ v: value })) !== JSON.stringify({ v: value }))
    expect(changed).toEqual([])
  })

  it('the core README states the corpus result', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ').replace(/\*/g, '')
    expect(readme).toContain(`${secrets.length} secrets, 0 leaks; ${benign.length} benign values, 0 false positives`)
  })
})
