import { redact } from '@opskit/core'
import { describe, expect, it } from 'vitest'
import { FieldRedactor } from '../src/redact-fields.js'

describe('FieldRedactor (the fast path for old/new values)', () => {
  it('gives what core redact() gives, top-level card numbers given as numbers included', () => {
    const values = { card: 4111111111111111, at: 1764629724006, pwd: 'p', dsn: 'postgresql://app:pw9@localhost/db', nested: { pan: 5555555555554444 }, ok: true }
    const out = new FieldRedactor(undefined).redact(values)
    expect(out).toEqual(redact(values))
    expect(out).toMatchObject({ card: '************1111', at: 1764629724006, pwd: '[REDACTED]', dsn: 'postgresql://app:[REDACTED]@localhost/db', nested: { pan: '************4444' } })
  })
})
