import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import corpus from '../../core/test/fixtures/secrets-corpus.json' with { type: 'json' }
import { captureLogger } from './capture.js'

// The corpus core's redact() is tested with (packages/core/test/fixtures/secrets-corpus.json),
// here through log lines: fields, nested values, child bindings, the message, `%o`, errors and causes.
interface SecretCase { name: string; value: unknown; leak: string[] }

const secrets: SecretCase[] = [...(corpus.strings as SecretCase[]), ...(corpus.numbers as SecretCase[]), ...(corpus.keys as SecretCase[])]
const benign: unknown[] = [...corpus.benign.strings, ...corpus.benign.numbers, ...corpus.benign.keys]

function logEveryWay(value: unknown): string {
  const { logger, raw } = captureLogger()
  logger.info({ note: value, nested: { a: [value] } }, 'as a field')
  logger.child({ tag: value }).info('as a binding')
  if (typeof value === 'string') {
    logger.info(value)
    logger.warn({ detail: 1 }, `upstream answered: ${value}`)
    logger.error(new Error(value))
    logger.error({ err: new Error('wrapped', { cause: new Error(value) }) }, 'with a cause')
  } else if (typeof value === 'object' && value !== null) {
    logger.info(value as Record<string, unknown>, 'as the logged object')
    logger.info('formatted %o', value)
  }
  return raw()
}

describe('secrets corpus through log lines', () => {
  it(`masks all ${secrets.length} secrets in every position of a line: 0 leaks`, () => {
    const leaks: string[] = []
    for (const c of secrets) {
      const output = logEveryWay(c.value)
      for (const secret of c.leak) if (output.includes(secret)) leaks.push(`${c.name}: ${output}`)
    }
    expect(leaks).toEqual([])
  })

  it(`writes all ${benign.length} benign values unchanged: 0 false positives`, () => {
    const changed: unknown[] = []
    for (const value of benign) {
      const { logger, lines } = captureLogger()
      if (typeof value === 'object' && value !== null) logger.info(value as Record<string, unknown>, 'benign')
      else logger.info({ v: value }, typeof value === 'string' ? value : 'benign')
      const line = lines()[0]!
      const ok = typeof value === 'object' && value !== null
        ? Object.entries(value).every(([k, v]) => JSON.stringify(line[k]) === JSON.stringify(v))
        : JSON.stringify(line.v) === JSON.stringify(value) && (typeof value !== 'string' || line.message === value)
      if (!ok) changed.push({ value, line })
    }
    expect(changed).toEqual([])
  })

  it('the logging README states the corpus result', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ').replace(/\*/g, '')
    expect(readme).toContain(`${secrets.length} secrets, 0 leaks; ${benign.length} benign values, 0 false positives`)
  })
})
