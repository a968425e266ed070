import { describe, expect, it } from 'vitest'
import { DEPTH_LIMIT_MARKER, isSecretKey, maskEmail, redact, redactNumber, redactString, REDACT_MAX_DEPTH, sanitizeHeader } from '@opskit/core'

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

describe('redact, second edition', () => {
  it('redacts the keys pass, pwd, passphrase, cvc, ssn, session ids and private keys', () => {
    const keys = ['pass', 'pwd', 'passphrase', 'cvc', 'ssn', 'sessionId', 'session_id', 'sid', 'privateKey', 'private_key', 'SMTP_PASS', 'userPwd']
    const input = Object.fromEntries(keys.map((k) => [k, 'v']))
    expect(redact(input)).toEqual(Object.fromEntries(keys.map((k) => [k, '[REDACTED]'])))
  })

  it('a 10,000-deep object or array is copied down to the depth limit, then a marker, never a stack overflow', () => {
    let deep: unknown = { password: 'p' }
    for (let i = 0; i < 10_000; i++) deep = { a: deep }
    let arrays: unknown = ['x']
    for (let i = 0; i < 10_000; i++) arrays = [arrays]
    let out = redact(deep) as Record<string, unknown>
    for (let i = 0; i < REDACT_MAX_DEPTH; i++) out = out.a as Record<string, unknown>
    expect(out).toBe(DEPTH_LIMIT_MARKER)
    expect(JSON.stringify(redact(arrays))).toContain(DEPTH_LIMIT_MARKER)
  })

  it('masks card numbers given as numbers or bigints, never timestamps or ids', () => {
    expect(redact({ card: 4111111111111111, big: 5555555555554444n, n: [378282246310005] })).toEqual({
      card: '************1111', big: '************4444', n: ['***********0005'],
    })
    // A Luhn-valid millisecond timestamp, a microsecond one, MAX_SAFE_INTEGER, a small id.
    for (const n of [1764629724006, 1764629724000005, Number.MAX_SAFE_INTEGER, 42, -4111111111111111]) expect(redactNumber(n)).toBe(n)
  })

  it('masks an error\'s stack and cause, not only its message', () => {
    const err = new Error('db at postgresql://app:pw0rd@localhost failed', { cause: new Error('token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl') })
    const text = JSON.stringify(redact(err))
    expect(text).not.toContain('pw0rd')
    expect(text).not.toContain('c2lnbmF0dXJl')
    expect(text).toContain('postgresql://app:[REDACTED]@localhost')
  })

  it('keeps prose and remotes that only look like secrets', () => {
    for (const text of ['Bearer of bad news', 'git@github.com:org/repo.git', 'ssh://git@github.com/org/repo', 'secretary: Jane', 'password_changed_at: 2026-01-01']) {
      expect(redactString(text)).toBe(text)
    }
    expect(redact({ secretary: 'Jane', password_changed_at: 'x', cookie_consent: true, token_type: 'Bearer' })).toEqual({
      secretary: 'Jane', password_changed_at: 'x', cookie_consent: true, token_type: 'Bearer',
    })
    expect(redactString('Bearer abcdefgh')).toBe('Bearer [REDACTED]') // the whole value is a credential
    expect(redactString('mail bob@example.com: done')).toBe('mail b***b@example.com: done')
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
    for (const k of ['secretary', 'password_changed_at', 'cookie_consent', 'token_type', 'tokenExpiresAt', 'bypass', 'ssid', 'passport', 'session']) {
      expect(isSecretKey(k)).toBe(false)
    }
    for (const k of ['passwordConfirmation', 'accesstoken', 'APIKey', 'aws_secret_access_key', 'Set-Cookie', 'smtpPass', 'password2', 'cvv2', 'oauth2Token']) {
      expect(isSecretKey(k)).toBe(true)
    }
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
    const out = redact({ err }) as unknown as { err: Record<string, unknown> }
    expect(out).toEqual({ err: { type: 'TypeError', message: 'no account for a***e@example.com, Bearer [REDACTED]', stack: expect.any(String), code: 'E_AUTH', password: '[REDACTED]' } })
    // The stack repeats the message: masked the same way, frames kept.
    expect(out.err.stack).toMatch(/^TypeError: no account for a\*\*\*e@example\.com, Bearer \[REDACTED\]\n\s+at /)
  })

  it('stays linear on hostile input (a long URL path naming a secret): regression for quadratic matching', () => {
    // Quadratic matching takes minutes on these (past the test timeout); linear takes milliseconds.
    const hostile = [
      '/token' + 'a'.repeat(200_000), 'a="'.repeat(60_000), 'token'.repeat(40_000) + '=x', 'Basic ' + 'a'.repeat(200_000),
      // the second edition's shapes: unterminated JWTs, PEM headers, URL userinfo, token prefixes
      '.eyJ' + 'a'.repeat(200_000), '.eyJaaaaa'.repeat(30_000), '-----BEGIN ' + 'AB '.repeat(60_000), '-----BEGIN PRIVATE KEY-----'.repeat(8_000),
      'a://b:'.repeat(40_000) + '@', 'x://' + ':'.repeat(200_000) + 'q', ' sk-'.repeat(60_000), 'pwd:'.repeat(60_000), 'a@b.'.repeat(60_000) + ':x',
    ]
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
