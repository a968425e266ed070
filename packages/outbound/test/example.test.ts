import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { format, HEADINGS, oneRequest, type Signals } from '../../../examples/two-services/src/main.js'

type Line = Record<string, unknown>

/** The signals back from `format()`'s text (the README block or a run). */
function parse(text: string): Signals {
  const sections = HEADINGS.map((heading, i) => {
    const start = text.indexOf(heading)
    const end = i + 1 < HEADINGS.length ? text.indexOf(HEADINGS[i + 1] as string) : text.length
    expect(start, `section "${heading}"`).toBeGreaterThanOrEqual(0)
    return text.slice(start + heading.length, end).split('\n').filter((line) => line.trim() !== '')
  })
  return { logs: sections[0] as string[], metrics: sections[1] as string[], spans: sections[2] as string[] }
}

/** What a reader checks by eye: the same ids across A's lines, B's line, A's metrics and the spans. */
function expectIdsMatch(signals: Signals): void {
  const logs = signals.logs.map((line) => JSON.parse(line) as Line)
  const b = logs.find((l) => l.logger === 'inventory' && l.message === 'request completed')
  const call = logs.find((l) => l.logger === 'outbound' && l.message === 'external call')
  const a = logs.find((l) => l.logger === 'orders' && l.message === 'request completed')
  expect(logs).toHaveLength(3)
  if (a === undefined || b === undefined || call === undefined) throw new Error('a line is missing')
  const traceId = a.trace_id as string
  expect(traceId).toMatch(/^[0-9a-f]{32}$/)
  for (const line of [b, call]) expect(line).toMatchObject({ request_id: a.request_id, trace_id: traceId })
  expect(call).toMatchObject({ service: 'inventory', method: 'GET', status_code: 200, span_id: a.span_id })
  expect(call.url).toMatch(/\/items\/42\?api_key=\[REDACTED\]$/)
  expect(b.span_id).not.toBe(a.span_id)

  expect(signals.metrics).toHaveLength(2)
  expect(signals.metrics.find((m) => m.startsWith('http_request_duration_seconds_bucket{'))).toContain(`# {trace_id="${traceId}"}`)
  expect(signals.metrics).toContain('http_client_requests_total{service="inventory",method="GET",status_code="200"} 1')

  const spans = signals.spans.map((line) => JSON.parse(line) as Line)
  expect(spans).toEqual([
    { service: 'inventory', name: 'request', trace_id: traceId, span_id: b.span_id, parent_span_id: a.span_id },
    { service: 'orders', name: 'request', trace_id: traceId, span_id: a.span_id, parent_span_id: null },
  ])
}

/** A run's text with what differs from run to run (ids, times, ports, durations, the bucket) replaced by placeholders. */
function shape(text: string): string {
  return text
    // The exemplar's value and time first: a duration with 16 decimals would pass for a span id.
    .replace(/le="[^"]+"\} 1 # \{trace_id="([0-9a-f]{32})"\} [\d.e-]+ [\d.]+/g, 'le="<le>"} 1 # {trace_id="$1"} <s> <unix>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '<time>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/\b[0-9a-f]{32}\b/g, '<trace>')
    .replace(/\b[0-9a-f]{16}\b/g, '<span>')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
    .replace(/"duration_ms":[\d.]+/g, '"duration_ms":<ms>')
}

describe('examples/two-services: one request, three signals', () => {
  it('A calls B over real sockets: the request id, trace id and span ids match across the lines, the metric exemplar and the exported spans', async () => {
    expectIdsMatch(await oneRequest())
  })

  it('the root README shows a real run: its block has the shape a run prints, and its ids match the same way', async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8')
    const section = readme.slice(readme.indexOf('## One request, three signals'))
    const block = /```text\n([\s\S]*?)```/.exec(section)?.[1]
    expect(block, 'a ```text block under "## One request, three signals"').toBeDefined()
    expectIdsMatch(parse(block as string))
    const run = format(await oneRequest())
    expect(shape((block as string).trimEnd())).toBe(shape(run))
  })
})
