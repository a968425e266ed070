import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import { opskitCore, type OpskitCoreOptions } from '@opskit/core'
import { createLogger, fastifyLoggingOptions, opskitLogging } from '@opskit/logging'
import { opskitMetrics } from '@opskit/metrics'
import { opskitOutbound, type OpskitOutboundOptions } from '@opskit/outbound'

export type LogLine = Record<string, unknown> & { level: string; message: string; logger: string }

/** Lines written by a logger, parsed, with a way to await the next one that matches. */
export class Capture {
  readonly chunks: string[] = []
  #waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = []

  write(chunk: string): void {
    this.chunks.push(chunk)
    for (const raw of chunk.split('\n')) {
      if (raw === '') continue
      const line = JSON.parse(raw) as LogLine
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.match(line)) return true
        w.resolve(line)
        return false
      })
    }
  }

  raw(): string {
    return this.chunks.join('')
  }

  lines(): LogLine[] {
    return this.raw()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as LogLine)
  }

  calls(): LogLine[] {
    return this.lines().filter((l) => l.message === 'external call')
  }

  /** The first line (already written or to come) that matches. */
  next(match: (line: LogLine) => boolean): Promise<LogLine> {
    const found = this.lines().find(match)
    if (found !== undefined) return Promise.resolve(found)
    return new Promise((resolve) => this.#waiters.push({ match, resolve }))
  }

  /** The external-call line whose url starts with `prefix`. */
  call(prefix: string): Promise<LogLine> {
    return this.next((l) => l.message === 'external call' && typeof l.url === 'string' && l.url.startsWith(prefix))
  }
}

export interface Upstream {
  url: string
  port: number
  /** Headers of every request received, in order. */
  received: IncomingHttpHeaders[]
  close(): Promise<void>
}

/** A local HTTP server on 127.0.0.1 answering with `handler` (default 200 `ok`). */
export async function upstream(handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('ok')): Promise<Upstream> {
  const received: IncomingHttpHeaders[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((req, res) => {
    received.push(req.headers)
    handler(req, res)
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

export interface TestApp {
  app: FastifyInstance
  capture: Capture
}

/** Fastify with core, logging (an opskit logger writing into memory), metrics and outbound. */
export async function buildApp(outbound: OpskitOutboundOptions = {}, core: OpskitCoreOptions = {}): Promise<TestApp> {
  const capture = new Capture()
  const logger = createLogger({ format: 'json', level: 'info', destination: { write: (chunk: string) => void capture.write(chunk) } })
  const app = Fastify(fastifyLoggingOptions(logger))
  await app.register(opskitCore, core)
  await app.register(opskitLogging)
  await app.register(opskitMetrics)
  await app.register(opskitOutbound, outbound)
  return { app, capture }
}

/** The scrape of `app`. */
export async function scrape(app: FastifyInstance): Promise<string> {
  const res = await app.inject('/metrics')
  return res.body
}

/** The value of the sample line that starts with `series`, undefined when absent. */
export function valueOf(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}
