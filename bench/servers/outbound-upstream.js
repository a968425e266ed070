// The upstream of the `outbound` group: a bare node:http server answering every request with a
// small JSON body, in its own process (started by `outbound-shared.js`), printing its port.
import { createServer } from 'node:http'

const body = JSON.stringify({ id: 42, status: 'ok' })
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`))
process.on('disconnect', () => process.exit(0))
