// Preloaded (`node --import ./usage-harness.mjs usage.js`) by scripts/pack-check.mjs to run a README's
// Usage block exactly as written, briefly: the block's `app.listen()` is moved to 127.0.0.1 on a free
// port, then one request is made (USAGE_REQUEST="POST /login", USAGE_BODY='{"email":"a@b"}'), its
// status must be one of USAGE_EXPECT ("200" or "200,503"), the response must carry x-request-id
// (USAGE_REQUEST_ID=0 to skip), and the app is closed. The process exits 0 only when all that held.
import diagnostics from 'node:diagnostics_channel'
import { setImmediate } from 'node:timers'

/* global fetch */

const [method = 'GET', path = '/'] = (process.env.USAGE_REQUEST ?? 'GET /').split(' ')
const body = process.env.USAGE_BODY
// Extra request headers, as JSON (USAGE_HEADERS='{"authorization":"Bearer admin-token"}').
const extraHeaders = process.env.USAGE_HEADERS === undefined ? {} : JSON.parse(process.env.USAGE_HEADERS)
const expected = (process.env.USAGE_EXPECT ?? '200').split(',').map(Number)
const wantRequestId = process.env.USAGE_REQUEST_ID !== '0'
const timeoutMs = Number(process.env.USAGE_TIMEOUT_MS ?? 120_000)

const timer = setTimeout(() => {
  console.error(`usage-harness: the block did not listen and answer ${method} ${path} within ${timeoutMs} ms`)
  process.exit(1)
}, timeoutMs)

let probed = false

diagnostics.subscribe('fastify.initialization', ({ fastify }) => {
  const listen = fastify.listen
  fastify.listen = async function harnessListen(options = {}) {
    const address = await listen.call(this, { ...options, port: 0, host: '127.0.0.1' })
    if (!probed) {
      probed = true
      setImmediate(() => probe(this, address))
    }
    return address
  }
})

async function probe(app, address) {
  let failure
  try {
    const res = await fetch(`${address}${path}`, {
      method,
      headers: { ...extraHeaders, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body } : {}),
    })
    const text = await res.text()
    console.log(`usage-harness: ${method} ${path} -> ${res.status} ${text.slice(0, 200)}`)
    if (!expected.includes(res.status)) failure = `status ${res.status}, expected ${expected.join(' or ')}`
    else if (wantRequestId && !res.headers.get('x-request-id')) failure = 'no x-request-id header on the response'
  } catch (err) {
    failure = `request failed: ${err?.stack ?? err}`
  }
  try {
    await app.close()
  } catch (err) {
    failure ??= `app.close() failed: ${err?.stack ?? err}`
  }
  clearTimeout(timer)
  if (failure !== undefined) {
    console.error(`usage-harness: ${failure}`)
    process.exit(1)
  }
  console.log('usage-harness: closed')
  // The block may hold its own connections open (a pg.Pool, a Redis client): the check is done.
  process.exit(0)
}
