import { describe, expect, it } from 'vitest'
import { histogramQuantile } from '../src/histogram-quantile.js'
import { RING_SIZE, TrafficRing, type Snapshot } from '../src/traffic-ring.js'

const bounds = [0.01, 0.1, 1]

/** A snapshot at minute `m` holding cumulative bucket counts per `METHOD route status`. */
function snapshot(m: number, series: Record<string, number[]>, rejections: Record<string, number> = {}): Snapshot {
  const map = new Map<string, { method: string; route: string; status: number; counts: number[] }>()
  for (const [key, counts] of Object.entries(series)) {
    const [method, route, status] = key.split(' ') as [string, string, string]
    map.set(key, { method, route, status: Number(status), counts })
  }
  return { at: Date.UTC(2026, 0, 1, 12, m), bounds, series: map, rejections: new Map(Object.entries(rejections)) }
}

describe('the one-hour traffic ring', () => {
  it('gives each minute the requests, 5xx and percentiles between two samples, the last minute live', () => {
    const ring = new TrafficRing()
    ring.push(snapshot(0, { 'GET /a 200': [5, 5, 5, 5] }))
    // minute 1: 10 more fast requests on /a, 2 slow 500s on /b
    ring.push(snapshot(1, { 'GET /a 200': [15, 15, 15, 15], 'GET /b 500': [0, 0, 2, 2] }))
    // in progress: one request over 1 s
    const live = snapshot(2, { 'GET /a 200': [15, 15, 15, 16], 'GET /b 500': [0, 0, 2, 2] })
    const minutes = ring.minutes(live)
    expect(minutes).toHaveLength(2)
    expect(minutes[0]).toMatchObject({ at: '2026-01-01T12:01:00.000Z', requests: 12, errors_5xx: 2 })
    expect(minutes[0]?.p50_ms).toBeLessThanOrEqual(10)
    expect(minutes[0]?.p99_ms).toBeGreaterThan(100)
    expect(minutes[1]).toMatchObject({ requests: 1, errors_5xx: 0, p50_ms: 1000 })
  })

  it('sums each route over the hour from the oldest snapshot kept, and forgets what is older', () => {
    const ring = new TrafficRing()
    ring.push(snapshot(0, { 'GET /a 200': [100, 100, 100, 100] }, { '/a': 40 }))
    for (let m = 1; m <= RING_SIZE; m++) ring.push(snapshot(m, { 'GET /a 200': [100 + m, 100 + m, 100 + m, 100 + m] }, { '/a': 40 + m }))
    const live = snapshot(RING_SIZE + 1, { 'GET /a 200': [200, 200, 200, 200], 'POST /a 503': [1, 1, 1, 1] }, { '/a': 120 })
    expect(ring.size).toBe(RING_SIZE)
    // the oldest kept is minute 1 (minute 0 fell out): 200 - 101
    expect(ring.routes(live)).toEqual([
      { method: 'GET', route: '/a', requests: 99, errors_5xx: 0, p50_ms: 5, p95_ms: 9.5, p99_ms: 9.9 },
      { method: 'POST', route: '/a', requests: 1, errors_5xx: 1, p50_ms: 5, p95_ms: 9.5, p99_ms: 9.9 },
    ])
    expect(ring.minutes(live)).toHaveLength(60)
    expect(ring.rejections(live)).toEqual([{ route: '/a', total: 120, last_hour: 79 }])
  })

  it('starts a series again when the registry was reset (counts went down)', () => {
    const ring = new TrafficRing()
    ring.push(snapshot(0, { 'GET /a 200': [50, 50, 50, 50] }))
    expect(ring.minutes(snapshot(1, { 'GET /a 200': [3, 3, 3, 3] }))[0]?.requests).toBe(3)
  })
})

describe('histogramQuantile', () => {
  it('interpolates inside the bucket and caps a rank in +Inf at the highest bound', () => {
    expect(histogramQuantile(0.5, { bounds, counts: [0, 10, 10, 10] })).toBe(55)
    expect(histogramQuantile(0.99, { bounds, counts: [0, 0, 0, 4] })).toBe(1000)
    expect(histogramQuantile(0.5, { bounds, counts: [0, 0, 0, 0] })).toBeNull()
  })
})
