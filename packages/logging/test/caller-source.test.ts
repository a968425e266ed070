import { describe, expect, test } from 'vitest'
import { parseStack } from '../src/caller-source.js'

const app = '/srv/bookings'
const stack = (...frames: string[]): string => ['Error', ...frames.map((frame) => `    at ${frame}`)].join('\n')

// Regression: source.file pointed into opskit's own dist/ (packages/security-log/dist/log-line.js,
// node_modules/@opskit/suite/dist/shared-services.js) instead of naming the component or the user's code.
describe('source of a WARN line, as installed from npm', () => {
  test('a line about opskit internals names the component and the file inside it (npm and pnpm layouts)', () => {
    expect(parseStack(stack(
      `logSecurityEvent (${app}/node_modules/@opskit/security-log/dist/log-line.js:20:12)`,
      `SecurityLog.record (${app}/node_modules/@opskit/security-log/dist/security-log.js:88:5)`,
      `hookIterator (${app}/node_modules/fastify/lib/hooks.js:405:10)`,
    ))).toEqual({ component: '@opskit/security-log', file: '@opskit/security-log/dist/log-line.js', line: 20, function: 'logSecurityEvent' })
    expect(parseStack(stack(
      `Redis.<anonymous> (${app}/node_modules/.pnpm/@opskit+suite@0.1.0_fastify@5.6.0/node_modules/@opskit/suite/dist/shared-services.js:113:14)`,
      `Redis.emit (node:events:519:28)`,
      `EventEmitter.silentEmit (${app}/node_modules/.pnpm/ioredis@5.8.0/node_modules/ioredis/built/Redis.js:482:30)`,
      `Socket.<anonymous> (${app}/node_modules/.pnpm/ioredis@5.8.0/node_modules/ioredis/built/redis/event_handler.js:213:14)`,
    ))).toEqual({ component: '@opskit/suite', file: '@opskit/suite/dist/shared-services.js', line: 113, function: 'Redis.<anonymous>' })
  })

  test('a line the user\'s code caused through opskit points at the user\'s code', () => {
    const source = parseStack(stack(
      `logSecurityEvent (${app}/node_modules/@opskit/security-log/dist/log-line.js:20:12)`,
      `Object.securityEvent (${app}/node_modules/@opskit/security-log/dist/plugin.js:61:20)`,
      `async handler (${process.cwd()}/src/login.js:40:7)`,
    ))
    expect(source).toEqual({ file: 'src/login.js', line: 40, function: 'handler' })
  })

  test('a user line is the user\'s file, as before', () => {
    expect(parseStack(stack(`chargeCard (${process.cwd()}/src/billing.js:12:9)`, `hookIterator (${app}/node_modules/fastify/lib/hooks.js:405:10)`)))
      .toEqual({ file: 'src/billing.js', line: 12, function: 'chargeCard' })
  })
})
