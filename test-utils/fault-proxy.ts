import { randomBytes } from 'node:crypto'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import { afterAll, afterEach, beforeAll } from 'vitest'

/**
 * A TCP proxy of the tests' own between an app and PostgreSQL (the shared server is never
 * stopped). Modes: `pass` forwards; `refuse` destroys every connection, open or new; `hang` keeps
 * every connection open and forwards nothing either way (a server gone silent, a dropped route);
 * `drop` destroys the open connections once and keeps forwarding new ones.
 */
export interface TcpProxy {
  readonly port: number
  /** `postgres://…` of `databaseUrl` pointed at the proxy. */
  url(databaseUrl: string): string
  pass(): void
  refuse(): void
  hang(): void
  drop(): void
  /** Connections accepted so far. */
  readonly accepted: number
  close(): Promise<void>
}

export async function startTcpProxy(databaseUrl: string): Promise<TcpProxy> {
  const upstreamUrl = new URL(databaseUrl)
  const host = upstreamUrl.hostname
  const port = Number(upstreamUrl.port || 5432)
  let mode: 'pass' | 'refuse' | 'hang' = 'pass'
  let accepted = 0
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>()
  const held = new Set<net.Socket>()

  const server = net.createServer((client) => {
    accepted++
    client.on('error', () => undefined)
    if (mode === 'refuse') {
      client.destroy()
      return
    }
    if (mode === 'hang') {
      held.add(client)
      client.on('close', () => held.delete(client))
      return
    }
    const upstream = net.connect(port, host)
    upstream.on('error', () => undefined)
    const pair = { client, upstream }
    pairs.add(pair)
    const drop = (): void => {
      client.destroy()
      upstream.destroy()
      pairs.delete(pair)
    }
    client.on('close', drop)
    upstream.on('close', drop)
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const dropAll = (): void => {
    for (const { client, upstream } of [...pairs]) {
      client.destroy()
      upstream.destroy()
    }
    pairs.clear()
  }

  return {
    port: (server.address() as AddressInfo).port,
    url(base) {
      const url = new URL(base)
      url.hostname = '127.0.0.1'
      url.port = String((server.address() as AddressInfo).port)
      return url.toString()
    },
    get accepted() {
      return accepted
    },
    pass() {
      const wasHung = mode === 'hang'
      mode = 'pass'
      if (!wasHung) return
      // What waited during the hang flows now (a late answer, as from a server that recovers).
      for (const { client, upstream } of pairs) {
        client.pipe(upstream)
        upstream.pipe(client)
      }
    },
    refuse() {
      mode = 'refuse'
      dropAll()
      for (const socket of held) socket.destroy()
      held.clear()
    },
    hang() {
      mode = 'hang'
      // Open connections stop forwarding either way but stay open: nothing answers, nothing fails.
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream)
        upstream.unpipe(client)
        client.pause()
        upstream.pause()
      }
    },
    drop() {
      dropAll()
    },
    close: () => new Promise<void>((resolve) => {
      dropAll()
      for (const socket of held) socket.destroy()
      held.clear()
      server.close(() => resolve())
    }),
  }
}

/** What `useFaultProxy()` gives a fault test's `describe`. */
export interface FaultProxySetup {
  /** The proxy in front of PostgreSQL: started in `beforeAll`, closed in `afterAll`; back to `pass` after each test. */
  proxy: TcpProxy
  /** A pool straight to PostgreSQL, past the proxy (for checking what was stored); ended in `afterAll`. */
  direct: pg.Pool
  /** A table name of its own (`<prefix>_<hex>`), dropped through `direct` in `afterAll`. */
  newTable(): string
}

/**
 * The set-up every fault test over real sockets shares: call it inside a `describe` (one that is
 * skipped without `DATABASE_URL`). `afterEach` runs after the proxy passes traffic again (close the
 * test's app there, so its close can reach the database).
 */
export function useFaultProxy(databaseUrl: string | undefined, opts: { tablePrefix: string; afterEach?: () => Promise<void> }): FaultProxySetup {
  const direct = new pg.Pool({ connectionString: databaseUrl })
  direct.on('error', () => undefined)
  const tables: string[] = []
  let started: TcpProxy | undefined
  const current = (): TcpProxy => {
    if (started === undefined) throw new Error('useFaultProxy(): the proxy starts in beforeAll')
    return started
  }
  beforeAll(async () => {
    if (databaseUrl === undefined) throw new Error('useFaultProxy() needs DATABASE_URL: skip the describe without it')
    started = await startTcpProxy(databaseUrl)
  })
  afterEach(async () => {
    started?.pass()
    await opts.afterEach?.()
  })
  afterAll(async () => {
    for (const table of tables) await direct.query(`DROP TABLE IF EXISTS ${table}`)
    await direct.end()
    await started?.close()
  })
  const proxy: TcpProxy = {
    get port() { return current().port },
    url: (base) => current().url(base),
    pass: () => current().pass(),
    refuse: () => current().refuse(),
    hang: () => current().hang(),
    drop: () => current().drop(),
    get accepted() { return current().accepted },
    close: () => current().close(),
  }
  return {
    proxy,
    direct,
    newTable() {
      const table = `${opts.tablePrefix}_${randomBytes(5).toString('hex')}`
      tables.push(table)
      return table
    },
  }
}
