#!/usr/bin/env bash
# Prometheus checks for @opskit/metrics, called by .ci/run:
#   1. promtool check rules  packages/metrics/prometheus/alerts.yml
#   2. promtool test rules   packages/metrics/prometheus/alerts.test.yml (each alert firing and not)
#   3. promtool check metrics on a scrape of a real server running the whole suite (built dist/), so
#      every family a user's /metrics can show is checked: HTTP, process, health, rate-limit,
#      audit and security-log metrics
# Installs prometheus (for promtool) with apt-get only when promtool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool not found: installing prometheus with apt-get"
  SUDO=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq prometheus >/dev/null
fi
promtool --version | head -n 1

echo "== promtool check rules"
promtool check rules packages/metrics/prometheus/alerts.yml

echo "== promtool test rules"
promtool test rules packages/metrics/prometheus/alerts.test.yml

if [ ! -f packages/suite/dist/index.js ] || [ ! -f packages/health/dist/index.js ]; then
  echo "== building (dist/ missing)"
  npx -y pnpm@10 run build
fi

echo "== promtool check metrics (scrape of a real server running the whole suite)"
scrape=$(mktemp)
trap 'rm -f "$scrape"' EXIT
node --input-type=module - "$scrape" <<'JS'
import { writeFileSync } from 'node:fs'
import Fastify from 'fastify'
import { memoryCheck } from './packages/health/dist/index.js'
import { loadConfig, opskit, serverOptions } from './packages/suite/dist/index.js'

// Embedded defaults (PGlite, memory rate limit); a budget of 3 (the 404 does not count) so the last request is a 429.
const config = loadConfig({ LOG_LEVEL: 'silent', RATE_LIMIT_REQUESTS: '3' })
const app = Fastify(serverOptions(config))
await app.register(opskit, { config, health: { checks: { memory: memoryCheck() } } })
app.get('/orders/:id', async (request) => {
  await request.audit({ action: 'create', entityType: 'order', entityId: request.params.id })
  return { ok: true }
})
app.get('/boom', async () => { throw new Error('boom') })
await app.listen({ port: 0, host: '127.0.0.1' })
const base = `http://127.0.0.1:${app.server.address().port}`
const statuses = []
for (const path of ['/orders/1', '/orders/2', '/boom', '/no/such/route', '/orders/3']) statuses.push((await fetch(base + path)).status)
if (statuses.at(-1) !== 429) throw new Error(`expected the last request to be rate-limited, got ${statuses.join(' ')}`)
await (await fetch(`${base}/health/ready`)).arrayBuffer()
await app.securityLog.flush()
const res = await fetch(`${base}/metrics`)
if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`)
writeFileSync(process.argv[2], await res.text())
await app.close()
JS
if ! promtool check metrics < "$scrape"; then
  echo "promtool check metrics failed on the scrape above" >&2
  exit 1
fi
for family in http_requests_total health_check_status rate_limit_rejections_total audit_events_total security_events_total; do
  if ! grep -q "^${family}{" "$scrape"; then
    echo "the scrape has no ${family} sample" >&2
    exit 1
  fi
done
echo "   $(grep -c '^# TYPE' "$scrape") metric families, all clean"
echo "promtool checks passed"
