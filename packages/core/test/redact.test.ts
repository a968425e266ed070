import { describe, expect, it } from 'vitest'
import { isSecretKey, maskEmail, redact, redactString, sanitizeHeader } from '@opskit/core'

describe('redact', () => {
  it('replaces secret keys case-insensitively, ignoring - and _', () => {
    const input = {
      password: 'hunter2', Passwd: 'x', client_secret: 's', accessToken: 'a', refresh_token: 'r', 'X-Api-Key': 'k', apiKey: 'k2',
      Authorization: 'Bearer abc.def', cookie: 'sid=1', 'set-cookie': ['a=1'], credit_card: '4111', CVV: '123', username: 'bob',
    }
    expect(redact(input)).toEqual({
      password: '[REDACTED]', Passwd: '[REDACTED]', client_secret: '[REDACTED]', accessToken: '[REDACTED]', refresh_token: '[REDACTED]',
      'X-Api-Key': '[REDACTED]', apiKey: '[REDACTED]', Authorization: '[REDACTED]', cookie: '[REDACTED]', 'set-cookie': '[REDACTED]',
      credit_card: '[REDACTED]', CVV: '[REDACTED]', username: 'bob',
    })
  })

  it('walks nested objects and arrays and never mutates the input', () => {
    const input = { user: { profile: { newPassword: 'p' } }, list: [{ token: 't' }, 'plain'] }
    const frozen = structuredClone(input)
    expect(redact(input)).toEqual({ user: { profile: { newPassword: '[REDACTED]' } }, list: [{ token: '[REDACTED]' }, 'plain'] })
    expect(input).toEqual(frozen)
  })

  it('masks e-mails and Luhn-valid card numbers inside strings, and leaves other digits alone', () => {
    expect(redact({ note: 'contact john.doe@example.com now' })).toEqual({ note: 'contact j***e@example.com now' })
    expect(redact('card 4111 1111 1111 1111 ok')).toBe('card ************1111 ok')
    expect(redact('order 1234567890123')).toBe('order 1234567890123')
  })

  it('handles cycles and keeps dates', () => {
    const a: Record<string, unknown> = { name: 'a', at: new Date('2026-01-01T00:00:00Z') }
    a.self = a
    const out = redact(a) as Record<string, unknown>
    expect(out.self).toBe('[Circular]')
    expect(out.at).toEqual(new Date('2026-01-01T00:00:00Z'))
  })

  it('accepts extra keys', () => {
    expect(redact({ ssn: '1', name: 'n' }, { keys: ['SSN'] })).toEqual({ ssn: '[REDACTED]', name: 'n' })
  })
})

describe('maskEmail', () => {
  it('keeps the first and last character of the local part', () => {
    expect(maskEmail('user@example.com')).toBe('u***r@example.com')
    expect(maskEmail('a@b.io')).toBe('a***@b.io')
    expect(maskEmail('no address here')).toBe('no address here')
  })

  it('is idempotent, so a line masked by a plugin and again by the logger reads the same', () => {
    for (const email of ['staff@example.com', 'a@b.io', 'john.doe+tag@mail.example.org']) {
      const once = maskEmail(email)
      expect(maskEmail(once)).toBe(once)
      expect(maskEmail(`login by ${once}`)).toBe(`login by ${once}`)
    }
  })
})

describe('isSecretKey', () => {
  it('matches the contract set and spares ordinary keys', () => {
    for (const k of ['password', 'PASSWORD', 'db_passwd', 'secretKey', 'id_token', 'authorization', 'Cookie', 'x-api-key', 'creditCard', 'cvv']) {
      expect(isSecretKey(k)).toBe(true)
    }
    for (const k of ['id', 'email', 'status', 'amount', 'user_agent']) expect(isSecretKey(k)).toBe(false)
  })
})

describe('redactString', () => {
  it('masks credentials written inline under any key name: Bearer/Basic values and secret=value pairs', () => {
    const cases: [string, string][] = [
      ['Bearer eyJhbGciOi.eyJzdWIi.sig', 'Bearer [REDACTED]'],
      ['upstream said Authorization: Bearer zzzsecret', 'upstream said Authorization: [REDACTED]'],
      ['Basic dXNlcjpwYXNz', 'Basic [REDACTED]'],
      ['/reset?token=abc123&page=2', '/reset?token=[REDACTED]&page=2'],
      ['{"password":"hunter2","ok":1}', '{"password":"[REDACTED]","ok":1}'],
      ["db_password='p w'", "db_password='[REDACTED]'"],
      ['api_key=K1, next', 'api_key=[REDACTED], next'],
    ]
    for (const [input, expected] of cases) {
      expect(redactString(input)).toBe(expected)
      expect(redactString(expected)).toBe(expected)
    }
    expect(redact({ header: 'Bearer abc.def', nested: { note: 'token=t0k' } })).toEqual({ header: 'Bearer [REDACTED]', nested: { note: 'token=[REDACTED]' } })
    expect(redact({ note: 'token=t0k' }, { emails: false })).toEqual({ note: 'token=[REDACTED]' })
  })

  it('keeps an error\'s type and message, masked, with its own fields redacted', () => {
    const err = Object.assign(new TypeError('no account for alice@example.com, Bearer abc.def'), { code: 'E_AUTH', password: 'p' })
    expect(redact({ err })).toEqual({ err: { type: 'TypeError', message: 'no account for a***e@example.com, Bearer [REDACTED]', code: 'E_AUTH', password: '[REDACTED]' } })
  })

  it('stays linear on hostile input (a long URL path naming a secret): regression for quadratic matching', () => {
    // Quadratic matching takes minutes on these (past the test timeout); linear takes milliseconds.
    const hostile = ['/token' + 'a'.repeat(200_000), 'a="'.repeat(60_000), 'token'.repeat(40_000) + '=x', 'Basic ' + 'a'.repeat(200_000)]
    for (const text of hostile) expect(redactString(text).length).toBeGreaterThan(0)
    expect(redactString('a=token=xyz')).toBe('a=token=[REDACTED]')
  })

  it('leaves ordinary text alone', () => {
    for (const text of ['GET /hello', 'my secret is safe', 'basic plan', 'Basic authentication failed', 'curl/8.4.0']) {
      expect(redactString(text)).toBe(text)
    }
  })
})

describe('sanitizeHeader', () => {
  it('strips CR/LF and control characters and bounds the length', () => {
    expect(sanitizeHeader('evil\r\nInjected: yes')).toBe('evilInjected: yes')
    expect(sanitizeHeader('x'.repeat(1000))).toHaveLength(512)
    expect(sanitizeHeader(undefined)).toBeUndefined()
    expect(sanitizeHeader(['a', 'b'])).toBe('a, b')
  })
})
