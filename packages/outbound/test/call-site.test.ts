import { describe, expect, it } from 'vitest'
import { sourceOf } from '../src/call-site.js'

const own = new URL('../src/call-observer.ts', import.meta.url).pathname
const stack = (...frames: string[]): { stack: string } => ({ stack: ['Error', ...frames.map((f) => `    at ${f}`)].join('\n') })

describe('sourceOf', () => {
  it('skips this package, Node and node_modules for the first frame of your code, relative to the working directory', () => {
    const site = stack(
      `CallObserver.start (${own}:120:13)`,
      'Channel.publish (node:diagnostics_channel:174:9)',
      `Request (${process.cwd()}/node_modules/.pnpm/undici@7.1.0/node_modules/undici/lib/core/request.js:40:5)`,
      `Stripe.request (${process.cwd()}/node_modules/.pnpm/stripe@17.0.0/node_modules/stripe/cjs/net/FetchHttpClient.js:90:12)`,
      `async chargeCard (file://${process.cwd()}/src/billing/charge.js:17:5)`,
    )
    expect(sourceOf(site)).toEqual({ file: 'src/billing/charge.js', line: 17, function: 'chargeCard' })
  })

  it('a call a library made from its own callback: the library frame (not undici) as <package>/<path>; nothing usable: undefined', () => {
    const site = stack(
      `CallObserver.start (${own}:120:13)`,
      `Request (/app/node_modules/undici/lib/core/request.js:40:5)`,
      'Timeout.flush (/app/node_modules/@opskit/alerts/dist/delivery.js:55:9)',
      'listOnTimeout (node:internal/timers:581:17)',
    )
    expect(sourceOf(site)).toEqual({ file: '@opskit/alerts/dist/delivery.js', line: 55, function: 'Timeout.flush' })
    expect(sourceOf(stack('listOnTimeout (node:internal/timers:581:17)', 'process.processTimers (node:internal/timers:519:7)'))).toBeUndefined()
    expect(sourceOf({})).toBeUndefined()
  })
})
