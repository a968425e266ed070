import { describe, expect, test } from 'vitest'
import { captureLogger } from './capture.js'

const SECRETS = ['hunter2', 'tok_live_123', 'acc_456', 'eyJhbGciOi.secret.sig', 'session=abc999', 'alice.smith@example.com', '4111111111111111']

describe('redaction', () => {
  test('secret keys, bearer headers, cookies, e-mails and card numbers never reach the output', () => {
    const { logger, raw, lines } = captureLogger()
    logger.info(
      {
        password: 'hunter2',
        token: 'tok_live_123',
        accessToken: 'acc_456',
        headers: { authorization: 'Bearer eyJhbGciOi.secret.sig', cookie: 'session=abc999', 'user-agent': 'curl/8' },
        email: 'alice.smith@example.com',
        payment: { card: '4111 1111 1111 1111', last4: '1111' },
      },
      'signup from alice.smith@example.com paid with 4111111111111111',
    )
    const output = raw()
    for (const secret of SECRETS) expect(output).not.toContain(secret)
    const [line] = lines()
    expect(line).toMatchObject({
      message: 'signup from a***h@example.com paid with ************1111',
      password: '[REDACTED]',
      token: '[REDACTED]',
      accessToken: '[REDACTED]',
      headers: { authorization: '[REDACTED]', cookie: '[REDACTED]', 'user-agent': 'curl/8' },
      email: 'a***h@example.com',
      payment: { card: '************1111', last4: '1111' },
    })
  })

  test('secrets inside arrays, nested objects and child bindings are redacted; the caller object is not mutated', () => {
    const { logger, raw } = captureLogger()
    const input = { users: [{ name: 'bob', password: 'hunter2' }], deep: { a: { b: { refresh_token: 'tok_live_123' } } } }
    logger.child({ apiKey: 'acc_456', owner: 'alice.smith@example.com' }).info(input, 'nested')
    const output = raw()
    for (const secret of SECRETS) expect(output).not.toContain(secret)
    expect(JSON.parse(output)).toMatchObject({ apiKey: '[REDACTED]', owner: 'a***h@example.com', users: [{ name: 'bob', password: '[REDACTED]' }] })
    expect(input.users[0]!.password).toBe('hunter2')
  })

  test('a raw e-mail in a plain string field or an error message is masked', () => {
    const { logger, raw } = captureLogger()
    logger.info({ note: 'contact alice.smith@example.com' }, 'x')
    logger.error(new Error('no account for alice.smith@example.com'))
    expect(raw()).not.toContain('alice.smith@example.com')
    expect(raw()).toContain('a***h@example.com')
  })

  test('bearer values under other key names, secrets in query strings and formatted objects, e-mails as keys and in error messages', () => {
    const { logger, raw } = captureLogger()
    logger.info({ header: 'Bearer eyJhbGciOi.secret.sig', h: { auth: 'Bearer tok_live_123' } }, 'upstream said Authorization: Bearer acc_456')
    logger.info({ url: '/reset?token=session=abc999&page=2', byEmail: { 'alice.smith@example.com': 1 } }, 'x')
    logger.info({ 'alice.smith@example.com': 'top-level key' }, 'y')
    logger.info('%s sent %o', 'alice.smith@example.com', { password: 'hunter2' })
    logger.error(new Error('login failed for alice.smith@example.com with Bearer tok_live_123'))
    logger.error({ err: new Error('outer', { cause: new Error('inner alice.smith@example.com') }) }, 'caused')
    const output = raw()
    for (const secret of SECRETS) expect(output).not.toContain(secret)
    expect(output).toContain('Bearer [REDACTED]')
    expect(output).toContain('a***h@example.com')
  })

  test('extra redact paths: a bare name anywhere, dotted paths, wildcards and brackets', () => {
    const { logger, raw, lines } = captureLogger({ redact: ['ssn', 'user.address.street', 'meta.*.pin', 'req["x-internal"]'] })
    logger.info(
      {
        ssn: '123-45-6789',
        nested: { ssn: '987-65-4321' },
        user: { address: { street: '1 Main St', city: 'Springfield' } },
        meta: { a: { pin: '1234', keep: 1 }, b: { pin: '5678' } },
        req: { 'x-internal': 'zzz', other: 'ok' },
      },
      'paths',
    )
    for (const secret of ['123-45-6789', '987-65-4321', '1 Main St', '1234', '5678', 'zzz']) expect(raw()).not.toContain(secret)
    expect(lines()[0]).toMatchObject({
      ssn: '[REDACTED]',
      nested: { ssn: '[REDACTED]' },
      user: { address: { street: '[REDACTED]', city: 'Springfield' } },
      meta: { a: { pin: '[REDACTED]', keep: 1 }, b: { pin: '[REDACTED]' } },
      req: { 'x-internal': '[REDACTED]', other: 'ok' },
    })
  })

  test('second edition: secrets by shape in fields, messages and error stacks; card numbers given as numbers; new secret keys', () => {
    const { logger, raw, lines } = captureLogger()
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNlY3JldA'
    logger.info({ db: 'postgresql://app:pgS3cret@localhost/app', card: 4111111111111111, big: 5555555555554444n, at: 1764629724006, pwd: 'p1', sessionId: 's1', private_key: 'k1' }, `token ${jwt}`)
    logger.child({ aws: 'AKIAIOSFODNN7EXAMPLE' }).error(new Error('Bearer zzzsecretvalue'))
    const output = raw()
    for (const secret of ['pgS3cret', '4111111111111111', '5555555555554444', 'c2lnbmF0dXJlLXNlY3JldA', 'AKIAIOSFODNN7EXAMPLE', 'zzzsecretvalue']) expect(output).not.toContain(secret)
    expect(lines()[0]).toMatchObject({
      message: 'token [REDACTED]', db: 'postgresql://app:[REDACTED]@localhost/app', card: '************1111', big: '************4444',
      at: 1764629724006, pwd: '[REDACTED]', sessionId: '[REDACTED]', private_key: '[REDACTED]',
    })
    expect(lines()[1]).toMatchObject({ message: 'Bearer [REDACTED]', aws: '[REDACTED]', err: { stack: expect.stringMatching(/^Error: Bearer \[REDACTED\]\n/) } })
  })

  test('keys and text that only look like secrets are written as they are', () => {
    const { logger, lines } = captureLogger()
    logger.info({ secretary: 'Jane', password_changed_at: '2026-01-01', cookie_consent: true, remote: 'git@github.com:org/repo.git' }, 'Bearer of bad news')
    expect(lines()[0]).toMatchObject({ message: 'Bearer of bad news', secretary: 'Jane', password_changed_at: '2026-01-01', cookie_consent: true, remote: 'git@github.com:org/repo.git' })
  })

  test('a 10,000-deep object is written down to the depth limit, never a stack overflow', () => {
    const { logger, lines } = captureLogger()
    let deep: Record<string, unknown> = { password: 'p' }
    for (let i = 0; i < 10_000; i++) deep = { a: deep }
    logger.info({ deep }, 'deep')
    expect(JSON.stringify(lines()[0]!.deep)).toContain('"[Object]"')
  })

  test('cycles and bigints do not break a line', () => {
    const { logger, lines } = captureLogger()
    const loop: Record<string, unknown> = { name: 'loop' }
    loop.self = loop
    logger.info({ loop, big: 10n }, 'odd values')
    expect(lines()[0]).toMatchObject({ loop: { name: 'loop', self: '[Circular]' }, big: '10' })
  })
})
