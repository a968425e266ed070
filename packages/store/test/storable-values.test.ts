import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { storableIp, storableJson, storableText, type Database } from '@opskit/store'
import { openTestDatabase, target } from './test-database.js'

describe(`storable values against ${target}`, () => {
  let db: Database
  beforeAll(async () => {
    db = await openTestDatabase()
  })
  afterAll(async () => {
    await db.close()
  })

  it('text with NUL, jsonb with NUL or a lone surrogate (value or key), an IPv6 zone: all accepted once made storable', async () => {
    const text = storableText('a\u0000b')
    const json = storableJson({ note: 'x\u0000', ['k\u0000']: ['lone \ud800'], fine: 'pair 😀' })
    const ip = storableIp('fe80::1%eth0')
    expect(text).toBe('a\uFFFDb')
    expect(json.value).toEqual({ note: 'x\uFFFD', ['k\uFFFD']: ['lone \uFFFD'], fine: 'pair 😀' })
    expect(ip).toBe('fe80::1')
    const { rows } = await db.query<{ t: string; j: unknown; i: string }>('SELECT $1::text AS t, $2::jsonb AS j, host($3::inet) AS i', [text, json.text, ip])
    expect(rows[0]).toEqual({ t: text, j: json.value, i: 'fe80::1' })
  })

  it('leaves clean values as they are (the same object) and refuses what is no address', () => {
    const value = { a: 'plain', b: [1, { c: 'ü' }] }
    expect(storableJson(value).value).toBe(value)
    expect(storableText('plain')).toBe('plain')
    expect(storableText(null)).toBeNull()
    expect(storableIp('10.0.0.1')).toBe('10.0.0.1')
    expect(storableIp('not-an-ip')).toBeNull()
    expect(storableIp(undefined)).toBeNull()
  })
})
