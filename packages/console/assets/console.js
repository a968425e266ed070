/* global document, window, fetch, URLSearchParams */
// The ops console page: plain DOM, no framework, no request to any other origin.
'use strict'
;(function () {
  var settings = JSON.parse(document.querySelector('meta[name="ops-settings"]').getAttribute('content'))
  var api = settings.prefix + '/api/'
  var SVG = 'http://www.w3.org/2000/svg'
  var parts = null
  var paused = false
  var timer = null
  var lists = {
    audit: { path: 'audit', skip: 0, limit: 20, filters: {}, rows: 'audit-rows', render: auditRow },
    securityEvents: { path: 'security-events', skip: 0, limit: 20, filters: {}, rows: 'security-rows', render: securityRow },
  }
  var routeSort = { key: 'requests', asc: false }
  var lastRoutes = []

  function $(id) { return document.getElementById(id) }
  function el(tag, cls, text) {
    var node = document.createElement(tag)
    if (cls) node.className = cls
    if (text !== undefined && text !== null) node.textContent = String(text)
    return node
  }
  function row(cells) {
    var tr = document.createElement('tr')
    cells.forEach(function (cell) { tr.appendChild(cell) })
    return tr
  }
  function td(text, cls) { return el('td', cls, text === undefined || text === null ? '' : text) }
  function fill(tbody, rows, columns, emptyText) {
    var body = $(tbody)
    body.replaceChildren()
    if (rows.length === 0) {
      var tr = document.createElement('tr')
      var cell = el('td', 'empty', emptyText || 'nothing yet')
      cell.colSpan = columns
      tr.appendChild(cell)
      body.appendChild(tr)
      return
    }
    rows.forEach(function (r) { body.appendChild(r) })
  }
  function ms(value) { return value === null || value === undefined ? '–' : (value < 10 ? value.toFixed(1) : Math.round(value)) }
  function time(iso) {
    if (!iso) return ''
    var d = new Date(iso)
    var today = new Date().toDateString() === d.toDateString()
    return today ? d.toLocaleTimeString() : d.toLocaleString()
  }
  function ago(iso) {
    var s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000))
    if (s < 90) return s + ' s ago'
    if (s < 5400) return Math.round(s / 60) + ' min ago'
    return Math.round(s / 3600) + ' h ago'
  }

  function get(path, query) {
    var qs = query ? new URLSearchParams(query).toString() : ''
    return fetch(api + path + (qs ? '?' + qs : ''), { credentials: 'same-origin', headers: { accept: 'application/json' } }).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) throw new Error((body && body.message) || res.status + ' ' + res.statusText)
        return body
      })
    })
  }

  function showError(message) {
    var box = $('error')
    box.hidden = !message
    box.textContent = message || ''
  }

  // Charts: inline SVG, presentation attributes only (the page's CSP allows no style attributes).
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag)
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])) })
    return node
  }
  // The hour as 60 slots, the minute in progress on the right; fewer points (a young process) sit at the right end.
  var SLOTS = 60
  function chart(containerId, minutes, series, opts) {
    var W = 600, H = 140, L = 36, B = 16, T = 6
    var box = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': opts.label })
    var max = 0
    series.forEach(function (s) { minutes.forEach(function (m) { var v = m[s.key]; if (typeof v === 'number' && v > max) max = v }) })
    if (max === 0) max = 1
    var step = (W - L) / SLOTS
    var offset = SLOTS - minutes.length
    function x(i) { return L + (offset + i) * step }
    function y(v) { return H - B - (v / max) * (H - B - T) }
    box.appendChild(svg('line', { x1: L, y1: H - B, x2: W, y2: H - B, class: 'axis' }))
    box.appendChild(svg('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }))
    var top = svg('text', { x: L - 4, y: T + 8, 'text-anchor': 'end' }); top.textContent = opts.format(max); box.appendChild(top)
    var zero = svg('text', { x: L - 4, y: H - B, 'text-anchor': 'end' }); zero.textContent = '0'; box.appendChild(zero)
    var first = svg('text', { x: L, y: H - 3 }); first.textContent = '−60 min'; box.appendChild(first)
    var mid = svg('text', { x: L + (W - L) / 2, y: H - 3, 'text-anchor': 'middle' }); mid.textContent = '−30 min'; box.appendChild(mid)
    var last = svg('text', { x: W, y: H - 3, 'text-anchor': 'end' }); last.textContent = 'now'; box.appendChild(last)
    series.forEach(function (s) {
      if (s.kind === 'bar') {
        minutes.forEach(function (m, i) {
          var v = m[s.key] || 0
          if (v <= 0) return
          var bar = svg('rect', { x: x(i) + step * 0.15, y: y(v), width: Math.max(step * 0.7, 1), height: H - B - y(v), fill: s.color })
          var tip = svg('title', {}); tip.textContent = time(m.at) + ': ' + v + ' ' + s.name; bar.appendChild(tip)
          box.appendChild(bar)
        })
      } else {
        var points = []
        minutes.forEach(function (m, i) {
          if (typeof m[s.key] !== 'number') return
          var px = x(i) + step / 2, py = y(m[s.key])
          points.push(px.toFixed(1) + ',' + py.toFixed(1))
          var dot = svg('circle', { cx: px.toFixed(1), cy: py.toFixed(1), r: 2.5, fill: s.color })
          var tip = svg('title', {}); tip.textContent = time(m.at) + ': ' + s.key.replace('_ms', '') + ' ' + ms(m[s.key]) + ' ms'; dot.appendChild(tip)
          box.appendChild(dot)
        })
        if (points.length > 1) box.appendChild(svg('polyline', { points: points.join(' '), fill: 'none', stroke: s.color, 'stroke-width': 2 }))
      }
    })
    $(containerId).replaceChildren(box)
  }

  function renderHealth(h) {
    var pill = $('health-status')
    pill.textContent = h.shutting_down ? 'shutting down' : h.status
    pill.className = 'pill s-' + (h.shutting_down ? 'shutting_down' : h.status)
    var names = Object.keys(h.services)
    fill('health-rows', names.map(function (name) {
      var s = h.services[name]
      return row([td(name), td(s.status, 's-' + s.status), td(ms(s.latency_ms) + ' ms', 'num'), td(ago(s.since)), td(s.error || '', 'wrap')])
    }), 5, 'no readiness checks registered')
  }

  function renderTraffic(t) {
    var css = window.getComputedStyle(document.documentElement)
    function color(name) { return css.getPropertyValue(name).trim() || '#888' }
    chart('chart-requests', t.minutes, [
      { key: 'requests', name: 'requests', kind: 'bar', color: color('--req') },
      { key: 'errors_5xx', name: '5xx', kind: 'bar', color: color('--bad') },
    ], { label: 'requests per minute', format: function (v) { return String(Math.round(v)) } })
    chart('chart-latency', t.minutes, [
      { key: 'p50_ms', kind: 'line', color: color('--p50') },
      { key: 'p95_ms', kind: 'line', color: color('--p95') },
      { key: 'p99_ms', kind: 'line', color: color('--p99') },
    ], { label: 'latency percentiles per minute', format: function (v) { return ms(v) } })
    lastRoutes = t.routes
    renderRoutes()
  }
  function renderRoutes() {
    var key = routeSort.key
    var sorted = lastRoutes.slice().sort(function (a, b) {
      var x = a[key], y = b[key]
      if (key === 'route') { x = a.method + ' ' + a.route; y = b.method + ' ' + b.route }
      if (x === y) return 0
      if (x === null) return 1
      if (y === null) return -1
      var c = x < y ? -1 : 1
      return routeSort.asc ? c : -c
    })
    fill('routes-rows', sorted.map(function (r) {
      return row([td(r.method + ' ' + r.route, 'mono'), td(r.requests, 'num'), td(r.errors_5xx, 'num' + (r.errors_5xx > 0 ? ' s-error' : '')), td(ms(r.p50_ms), 'num'), td(ms(r.p95_ms), 'num'), td(ms(r.p99_ms), 'num')])
    }), 6, 'no requests in the last hour')
    Array.prototype.forEach.call(document.querySelectorAll('#routes th'), function (th) {
      th.classList.toggle('sorted', th.getAttribute('data-key') === key)
      th.classList.toggle('asc', th.getAttribute('data-key') === key && routeSort.asc)
    })
  }

  function renderSlowest(s) {
    fill('slowest-rows', s.items.map(function (r) {
      return row([td(ms(r.duration_ms), 'num'), td(r.method + ' ' + r.route, 'mono'), td(r.status_code, r.status_code >= 500 ? 's-error' : ''), td(r.request_id, 'mono id'), td(time(r.at))])
    }), 5, 'no requests yet')
  }

  function renderRateLimits(r) {
    fill('rate-rows', r.routes.map(function (x) { return row([td(x.route, 'mono'), td(x.last_hour, 'num'), td(x.total, 'num')]) }), 3, 'no rejections')
  }

  function renderAlerts(a) {
    var box = $('alerts-firing')
    box.replaceChildren()
    if (a.firing.length === 0) box.appendChild(el('div', 'empty', 'nothing firing'))
    a.firing.forEach(function (f) {
      var label = '[' + (f.severity || 'alert') + '] ' + (f.alert || f.name || '') + (f.message ? ': ' + f.message : '')
      box.appendChild(el('div', 'firing', label))
    })
    fill('alerts-rows', a.history.slice().reverse().map(function (h) {
      return row([td(time(h.at)), td(h.alert || h.name), td(h.severity, 's-' + h.severity), td(h.kind), td(h.message, 'wrap')])
    }), 5, 'no alerts yet')
  }

  function renderGauges(g) {
    var box = $('gauge-list')
    box.replaceChildren()
    var tiles = 0
    g.metrics.forEach(function (m) {
      m.values.forEach(function (v) {
        var labels = Object.keys(v.labels).map(function (k) { return k + '=' + v.labels[k] }).join(', ')
        var tile = el('div', 'gauge')
        tile.title = m.help
        tile.appendChild(el('div', 'v', Number.isInteger(v.value) ? v.value : v.value.toFixed(2)))
        tile.appendChild(el('div', 'n', m.name + (labels ? ' {' + labels + '}' : '')))
        box.appendChild(tile)
        tiles++
      })
    })
    if (tiles === 0) box.appendChild(el('div', 'empty', 'no metrics of the app yet: fastify.metrics.gauge({ name, help, collect })'))
  }

  function auditRow(r) {
    var entity = [r.entity_type, r.entity_id].filter(Boolean).join(' ') + (r.entity_name ? ' (' + r.entity_name + ')' : '')
    return row([td(time(r.created_at)), td(r.user_email || r.user_id || '–'), td(r.action), td(entity), td(r.changes_summary, 'wrap'), td(r.request_id, 'mono')])
  }
  function securityRow(r) {
    return row([td(time(r.created_at)), td(r.severity, 's-' + r.severity), td(r.action), td(r.user_email || r.user_id || '–'), td(r.ip_address, 'mono'), td(r.request_path, 'mono'), td(r.request_id, 'mono')])
  }

  function loadList(name) {
    var list = lists[name]
    var query = Object.assign({}, list.filters, { limit: list.limit, skip: list.skip })
    return get(list.path, query).then(function (page) {
      fill(list.rows, page.items.map(list.render), 7, 'no rows match')
      var pager = document.querySelector('.pager[data-list="' + name + '"]')
      var to = Math.min(page.skip + page.items.length, page.total)
      pager.querySelector('span').textContent = page.total === 0 ? '0 rows' : (page.skip + 1) + '–' + to + ' of ' + page.total
      pager.querySelector('[data-dir="-1"]').disabled = page.skip === 0
      pager.querySelector('[data-dir="1"]').disabled = to >= page.total
    })
  }

  function refresh() {
    var jobs = []
    if (parts.health) jobs.push(get('health').then(renderHealth))
    if (parts.traffic) jobs.push(get('traffic').then(renderTraffic))
    if (parts.slowest) jobs.push(get('slowest').then(renderSlowest))
    if (parts.rateLimits) jobs.push(get('rate-limits').then(renderRateLimits))
    if (parts.alerts) jobs.push(get('alerts').then(renderAlerts))
    if (parts.gauges) jobs.push(get('gauges').then(renderGauges))
    if (parts.audit) jobs.push(loadList('audit'))
    if (parts.securityEvents) jobs.push(loadList('securityEvents'))
    return Promise.all(jobs).then(function () {
      showError('')
      $('updated').textContent = 'updated ' + new Date().toLocaleTimeString()
    }, function (err) { showError('Could not refresh: ' + err.message) })
  }

  function schedule() {
    window.clearTimeout(timer)
    if (!paused) timer = window.setTimeout(function () { refresh().then(schedule) }, settings.refreshMs)
  }

  function wire() {
    Array.prototype.forEach.call(document.querySelectorAll('form.filters'), function (form) {
      form.addEventListener('submit', function (event) {
        event.preventDefault()
        var name = form.getAttribute('data-list')
        var filters = {}
        Array.prototype.forEach.call(form.elements, function (input) { if (input.name && input.value.trim() !== '') filters[input.name] = input.value.trim() })
        lists[name].filters = filters
        lists[name].skip = 0
        loadList(name).then(function () { showError('') }, function (err) { showError(err.message) })
      })
    })
    Array.prototype.forEach.call(document.querySelectorAll('.pager button'), function (button) {
      button.addEventListener('click', function () {
        var name = button.parentNode.getAttribute('data-list')
        var list = lists[name]
        list.skip = Math.max(0, list.skip + Number(button.getAttribute('data-dir')) * list.limit)
        loadList(name).catch(function (err) { showError(err.message) })
      })
    })
    Array.prototype.forEach.call(document.querySelectorAll('#routes th'), function (th) {
      th.addEventListener('click', function () {
        var key = th.getAttribute('data-key')
        routeSort = { key: key, asc: routeSort.key === key ? !routeSort.asc : key === 'route' }
        renderRoutes()
      })
    })
    $('pause').addEventListener('click', function () {
      paused = !paused
      $('pause').textContent = paused ? 'Resume' : 'Pause'
      if (!paused) refresh().then(schedule)
      else window.clearTimeout(timer)
    })
  }

  get('parts').then(function (body) {
    parts = body.parts
    Object.keys(parts).forEach(function (name) { var section = $(name); if (section) section.hidden = !parts[name] })
    wire()
    return refresh().then(schedule)
  }).catch(function (err) { showError('Could not load the console: ' + err.message) })
})()
