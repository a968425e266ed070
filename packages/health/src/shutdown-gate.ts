import type { IncomingMessage, Server, ServerResponse } from 'node:http'

type RequestListener = (this: Server, req: IncomingMessage, res: ServerResponse) => void

export interface ShutdownGatePaths {
  /** Answered `503 {"status":"shutting_down"}`. */
  ready: string
  /** Answered `200` with the liveness body: the process is alive while it drains. */
  live: string[]
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '/'
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/**
 * Once `close()` has started, Fastify answers every new request with its own 503 body before any
 * route or hook runs (`return503OnClosing`, on by default). This puts the probes in front of it
 * for the drain: readiness says `shutting_down`, liveness still says `ok`, everything else goes
 * to Fastify unchanged. Installed only when shutdown starts, so it costs nothing before.
 */
export function installShutdownGate(server: Server, paths: ShutdownGatePaths, shuttingDownBody: string, liveBody: () => string): void {
  const listeners = server.listeners('request') as RequestListener[]
  if (listeners.length === 0) return
  server.removeAllListeners('request')
  server.on('request', function gate(this: Server, req: IncomingMessage, res: ServerResponse) {
    if (req.method === 'GET' || req.method === 'HEAD') {
      const path = pathOf(req.url)
      if (path === paths.ready) {
        respond(res, 503, shuttingDownBody)
        return
      }
      if (paths.live.includes(path)) {
        respond(res, 200, liveBody())
        return
      }
    }
    for (const listener of listeners) listener.call(this, req, res)
  })
}

function respond(res: ServerResponse, statusCode: number, body: string): void {
  res.writeHead(statusCode, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    connection: 'close',
  })
  res.end(body)
}
