// Child process of spool.test.ts: an app with the audit spool on, from the built packages.
// Env: DATABASE_URL (through the test's proxy), TABLE, SPOOL_DIR, PHASE = 'accept' | 'replay'.
// accept: prints "ready", then on "go <n>" from stdin records n events without awaiting them and
// prints "accepted <n>"; the parent SIGKILLs it. replay: starts (replaying the spool), waits until
// everything is committed, closes and prints "closed".
import { createInterface } from 'node:readline'
import Fastify from 'fastify'
import { opskitCore } from '../../core/dist/index.js'
import { opskitAudit } from '../dist/index.js'

const { DATABASE_URL, TABLE, SPOOL_DIR, PHASE } = process.env
const app = Fastify({ logger: { level: 'warn', stream: process.stderr } })
await app.register(opskitCore)
await app.register(opskitAudit, {
  connection: DATABASE_URL,
  table: TABLE,
  spool: { dir: SPOOL_DIR },
  queue: { retryBaseMs: 20, retryMaxMs: 200, settleTimeoutMs: 1000 },
})
await app.ready()

if (PHASE === 'replay') {
  await app.audit.flush()
  await app.close()
  process.stdout.write('closed\n')
} else {
  // A few committed before the outage: their spool entries are settled, never written twice.
  for (let i = 0; i < 20; i++) await app.audit.record({ action: 'create', entityType: 'item', entityId: `before-${i}` })
  process.stdout.write('ready\n')
  for await (const line of createInterface({ input: process.stdin })) {
    const [command, n] = line.split(' ')
    if (command !== 'go') continue
    for (let i = 0; i < Number(n); i++) {
      app.audit.record({ action: 'update', entityType: 'item', entityId: `during-${i}`, after: { i } }).catch(() => undefined)
    }
    process.stdout.write(`accepted ${n}\n`)
  }
}
