// Shared by the `audit` group's servers: the database (DATABASE_URL, else embedded PGlite), a unique
// table dropped on close, and the event each request records.
import { randomBytes } from 'node:crypto'

export const DATABASE_URL = process.env.DATABASE_URL
export const table = `audit_bench_${process.pid}_${randomBytes(3).toString('hex')}`

export function eventFor(id) {
  return {
    action: 'update', entityType: 'booking', entityId: id, entityName: 'Room 5',
    before: { status: 'pending', amount: 10, guest: { name: 'Ann', nights: 2 } },
    after: { status: 'confirmed', amount: 12, guest: { name: 'Ann', nights: 2 } },
  }
}

/** Same actor for every request, as an auth plugin would set it. */
export const resolveActor = () => ({ id: 'bench-user', email: 'bench@example.com', role: 'admin' })
