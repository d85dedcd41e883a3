/**
 * SimplePool dashboard: one static page fed by one EventSource on /v1/watch.
 *
 * Data flows one way: stream events update `state`, and a `tick` (once a second) renders the
 * overview cards and the visible view. A burst of cluster events (a fresh connection replays
 * the whole kept log) therefore costs one render, not one per event. Tables keep one DOM row
 * per key and only touch the cells whose text changed, so a button stays put under the
 * pointer while the figures around it move; a row moves only when its node comes to need a
 * look or stops needing one (the server's order), which is why both writes on a row ask first.
 */
/* global uPlot */

// Relative to /dashboard/, so the page still works behind a proxy that mounts the admin
// server under a prefix.
const API = '../v1/'
/** Ticks kept for the charts: five minutes at one a second. */
const HISTORY = 300
/** Cluster events kept, newest first. */
const EVENTS = 200
const TOKEN_KEY = 'simplepool.token'
const VIEWS = ['overview', 'nodes', 'pools', 'worker', 'migrations', 'events']
/** Cluster events marked on the charts' time axis. */
const MARKED = /^(member:|drain:|migration:(start|done)$)/
const MARK_COLOURS = { member: '#5aa9ff', drain: '#f0a53a', migration: '#b48cff' }
/** A pool's actual share this far from its target (in share points) is flagged. */
const SHARE_SLACK = 0.05
/** After the browser gives up on the stream (HTTP error, wrong type), try again this late. */
const RETRY_MS = 5000
/** About a table row's height in px: the stream asks for the rows one screen shows (see rowsOnScreen). */
const ROW_PX = 28
/** About the height in px of what stands above a view's table. */
const HEAD_PX = 220

const state = {
  hello: null,
  tick: null,
  /** Pool names from hello and ticks, sorted. */
  pools: [],
  /** Newest first, at most EVENTS: { key, at, node, type, fields, text }. */
  events: [],
  /** Keys of `events`: a replay after a reconnect must not show an event twice. */
  eventKeys: new Set(),
  /** Bumped whenever `events` changes; event lists redraw only then. */
  eventsVersion: 0,
  /** Columns for uPlot: at (s), msgs/s, failures/s, p50 ms, p99 ms. */
  history: [[], [], [], [], []],
  /** Chart markers: { t (s), kind, label }; pruned to the charts' window on every tick. */
  marks: [],
  view: 'overview',
  everOpen: false,
  /** The id of the last cluster event, for a stream started over after the browser gave up. */
  lastId: '',
  /** The nodes the stream sends: `rows` of them from the `from`th, in the server's order (this node, those that need a look, the rest). */
  page: { from: 0, rows: 0 },
  token: sessionStorage.getItem(TOKEN_KEY) ?? ''
}

const $ = (id) => document.getElementById(id)

/** A DOM element: `text` sets its text, `class` its class, anything else an attribute (null skipped). */
function h (tag, props = {}, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue
    if (k === 'text') el.textContent = v
    else if (k === 'class') el.className = v
    else el.setAttribute(k, v === true ? '' : String(v))
  }
  // text and children exclude each other: filling would wipe the text
  return children.length > 0 ? fill(el, ...children) : el
}

/** Replaces `el`'s children; arrays are flattened and null / undefined skipped, as in h(). */
function fill (el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter(c => c != null))
  return el
}

/** Writes only what changed: assigning the same text still costs a layout. */
function setText (el, text, title) {
  if (el.textContent !== text) el.textContent = text
  if (title !== undefined && el.title !== title) el.title = title
}

function setAttr (el, name, value) {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value)
}

/** A number cell: readable text, the raw figure in data-value for scripts and tests. */
function setNum (el, value, text) {
  setText(el, value == null ? '—' : text)
  setAttr(el, 'data-value', value == null ? '' : String(value))
}

/** Text plus a colour from the stylesheet's [data-tone] rules. */
function setTone (el, text, tone) {
  setText(el, text)
  setAttr(el, 'data-tone', tone ?? 'muted')
}

// ---- formatting

const short = (id) => typeof id === 'string' ? id.slice(-8) : '—'
const fixed = (n, d = 1) => n == null ? '—' : Number(n).toFixed(d)
const mb = (bytes) => bytes == null ? '—' : (bytes / 1048576).toFixed(0)
const pct = (x) => x == null ? '—' : `${(x * 100).toFixed(1)}%`
const clock = (at) => new Date(at).toTimeString().slice(0, 8)

/** 12.3k, 1.23M: figures for cards and axes, where width matters more than digits. */
function compact (n) {
  if (n == null) return '—'
  const a = Math.abs(n)
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)}M`
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`
  return a >= 100 || Number.isInteger(n) ? n.toFixed(0) : n.toFixed(1)
}

/** Latency: turns are often a few microseconds, so three decimals below 0.1 ms (the histograms' buckets start at 1 µs). */
const millis = (n) => n == null ? '—' : n === 0 ? '0' : n < 0.1 ? n.toFixed(3) : n < 10 ? n.toFixed(2) : n.toFixed(1)

const TONES = {
  status: { up: 'good', joining: 'info', draining: 'warn', leaving: 'muted' },
  liveness: { alive: 'good', suspect: 'warn', down: 'bad' },
  health: { online: 'good', degraded: 'warn', critical: 'bad' }
}

// ---- the stream

let source = null

/**
 * The rows of nodes one screen shows: a tick then costs the same at 1,000 nodes as at 20
 * (the totals still count every node). `?rows=N` in the page's address sets it.
 */
function rowsOnScreen () {
  const asked = Number(new URLSearchParams(location.search).get('rows'))
  if (Number.isInteger(asked) && asked >= 1 && asked <= 1000) return asked
  // (the header, cards and the view's own lines above the table take about HEAD_PX)
  return Math.max(10, Math.ceil((window.innerHeight - HEAD_PX) / ROW_PX))
}

function connect () {
  state.page.rows = rowsOnScreen()
  // a fresh EventSource has no Last-Event-ID to send, so say where we were in the query
  // (the server reads `since` when the header is absent; one that ignores it replays, and
  // the keys in onCluster drop what we already have)
  const since = state.lastId === '' ? '' : `&since=${encodeURIComponent(state.lastId)}`
  const es = source = new EventSource(`${API}watch?rows=${state.page.rows}&from=${state.page.from}${since}`)
  setConn('connecting')
  source.onopen = () => { state.everOpen = true; setConn('open') }
  source.onerror = () => {
    // (a stream replaced by another, for other rows, is nothing to retry)
    if (es !== source) return
    // CONNECTING: the browser retries by itself, resuming with Last-Event-ID.
    // CLOSED: it gave up (an HTTP error); start over later with a fresh stream.
    if (source.readyState !== EventSource.CLOSED) return setConn('connecting')
    setConn('closed')
    setTimeout(() => { if (es === source) connect() }, RETRY_MS)
  }
  source.addEventListener('hello', (e) => {
    state.hello = JSON.parse(e.data)
    mergePools(state.hello.pools ?? [])
    // a new tab: the charts start with what the server kept of the last minutes
    if (state.history[0].length === 0) for (const s of state.hello.history ?? []) addPoint(s)
    setText($('served-by'), `via ${short(state.hello.node)}`, `served by ${state.hello.node}`)
    renderMode()
  })
  source.addEventListener('tick', (e) => onTick(JSON.parse(e.data)))
  source.addEventListener('cluster', (e) => onCluster(JSON.parse(e.data), e.lastEventId))
  source.addEventListener('events:gap', (e) => {
    const d = JSON.parse(e.data)
    addEvent({ key: `gap:${d.at}:${d.after}`, at: d.at, node: null, type: 'events:gap', fields: { after: d.after, note: 'events were lost here' } })
  })
}

/** The stream again, for other rows: another page, or a window that shows more or fewer. */
function reconnect () {
  source?.close()
  connect()
}

/** Moves the page of nodes by one screen; the next tick brings its rows. */
function turnPage (by) {
  const total = state.tick?.totals.nodes ?? 0
  const from = Math.max(0, Math.min(state.page.from + by * state.page.rows, Math.max(0, total - 1)))
  if (from === state.page.from) return
  state.page.from = from
  reconnect()
}

function setConn (s) {
  const el = $('conn')
  el.dataset.state = s
  el.textContent = s === 'open' ? 'live' : s === 'closed' ? 'disconnected' : state.everOpen ? 'reconnecting…' : 'connecting…'
  document.body.classList.toggle('stale', s !== 'open')
}

function onTick (tick) {
  // a page past the end (nodes left since it was turned to): the last page instead
  if ((tick.nodes ?? []).length === 0 && tick.totals.nodes > 0 && state.page.from > 0) {
    state.page.from = Math.floor((tick.totals.nodes - 1) / state.page.rows) * state.page.rows
    reconnect()
  }
  state.tick = tick
  addPoint({ at: tick.at, ...tick.totals })
  for (const n of tick.nodes ?? []) mergePools(Object.keys(n.pools ?? {}))
  render()
}

/** One second of the cluster's totals on the charts' columns. */
function addPoint (s) {
  const at = state.history[0]
  const t = s.at / 1000
  // a null point after a hole (reconnect, paused server, nobody watching) breaks the line instead of bridging it
  if (at.length > 0 && t - at[at.length - 1] > 3) push(at[at.length - 1] + 1, null, null, null, null)
  push(t, s.msgsPerSec ?? null, s.failuresPerSec ?? null, s.p50Ms ?? null, s.p99Ms ?? null)
  while (at.length > HISTORY) for (const col of state.history) col.shift()
  while (state.marks.length > 0 && state.marks[0].t < at[0]) state.marks.shift()

  function push (...row) { row.forEach((v, i) => state.history[i].push(v)) }
}

function onCluster (data, id) {
  const { at, node, type, ...fields } = data
  // lastEventId sticks from the previous event when one comes without an id, so it alone is no key
  const key = `${id}|${type}|${at}`
  if (id !== '') state.lastId = id
  if (state.eventKeys.has(key)) return
  addEvent({ key, at, node, type, fields })
  if (MARKED.test(type)) {
    const kind = type.slice(0, type.indexOf(':'))
    const who = fields.member ?? fields.pool ?? node
    state.marks.push({ t: at / 1000, kind, label: `${type} ${typeof who === 'string' && who.length > 12 ? short(who) : who ?? ''}` })
    // members log their events independently, so they may arrive a little out of order
    const n = state.marks.length
    if (n > 1 && state.marks[n - 2].t > state.marks[n - 1].t) state.marks.sort((a, b) => a.t - b.t)
  }
}

function addEvent (e) {
  e.text = `${e.type} ${e.node ?? ''} ${JSON.stringify(e.fields)}`.toLowerCase()
  state.events.unshift(e)
  state.eventKeys.add(e.key)
  if (state.events.length > EVENTS) state.eventKeys.delete(state.events.pop().key)
  state.eventsVersion++
}

function mergePools (names) {
  const fresh = names.filter(p => !state.pools.includes(p))
  if (fresh.length === 0) return
  state.pools = [...state.pools, ...fresh].sort()
  const select = $('worker-pool')
  const chosen = select.value
  fill(select, ...state.pools.map(p => h('option', { value: p, text: p })))
  if (chosen !== '') select.value = chosen
}

// ---- token and write mode

const writeMode = () => state.token !== '' && state.hello?.writable === true

function renderMode () {
  const write = writeMode()
  const el = $('mode')
  el.textContent = write ? 'write' : 'read-only'
  el.dataset.tone = write ? 'warn' : 'muted'
  el.title = write
    ? 'Token saved for this tab: drain, undrain and rebalance buttons are shown'
    : state.token === '' ? 'Save the admin token to drain, undrain or rebalance' : 'This node has no admin token configured: writes are off'
  document.body.classList.toggle('writable', write)
  render()
}

function initToken () {
  $('token').value = state.token
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault()
    state.token = $('token').value.trim()
    if (state.token === '') sessionStorage.removeItem(TOKEN_KEY)
    else sessionStorage.setItem(TOKEN_KEY, state.token)
    notice(state.token === '' ? 'Token forgotten' : 'Token saved for this tab')
    renderMode()
  })
  $('token-forget').addEventListener('click', () => {
    state.token = ''
    $('token').value = ''
    sessionStorage.removeItem(TOKEN_KEY)
    notice('Token forgotten')
    renderMode()
  })
}

// ---- requests

/** One call to the admin API; writes carry the token. Never throws: network errors come back as status 0. */
async function call (method, path, write = false) {
  const headers = write ? { authorization: `Bearer ${state.token}` } : {}
  try {
    const res = await fetch(API + path, { method, headers, cache: 'no-store' })
    let body = null
    try { body = await res.json() } catch { body = null }
    return { ok: res.ok, status: res.status, body }
  } catch (err) {
    return { ok: false, status: 0, body: { error: { name: err.name, message: err.message } } }
  }
}

const errorText = (r) => r.body?.error != null ? `${r.body.error.name}: ${r.body.error.message}` : `HTTP ${r.status}`

function notice (text, error = false) {
  const el = $('notice')
  el.firstElementChild.textContent = text
  el.classList.toggle('error', error)
  el.hidden = false
}

/** Runs a write for a button, which stays disabled meanwhile so a double click sends one request. */
async function post (button, label, path) {
  button.disabled = true
  try {
    const r = await call('POST', path, true)
    // the node accepted it; the moves follow at the migration budget (see Migrations)
    notice(r.ok ? `${label}: accepted` : `${label} failed: ${errorText(r)}`, !r.ok)
  } finally {
    button.disabled = false
  }
}

// One listener for every button in every table: rows come and go, the listener stays.
document.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-action]')
  if (b === null) return
  const node = b.closest('tr[data-node]')?.dataset.node
  const pool = b.dataset.pool
  switch (b.dataset.action) {
    // moving workers is asked first, as the command line asks; putting a node back is not
    case 'drain':
      if (!confirm(`Drain ${node}? Its workers move to the other nodes.`)) return
      return post(b, `drain ${short(node)}`, `nodes/${encodeURIComponent(node)}/drain`)
    case 'undrain':
      if (!confirm(`Undrain ${node}? It takes workers again.`)) return
      return post(b, `undrain ${short(node)}`, `nodes/${encodeURIComponent(node)}/undrain`)
    case 'rebalance':
      if (!confirm(`Rebalance ${pool}? Every worker whose owner moved is handed over now.`)) return
      return post(b, `rebalance ${pool}`, `pools/${encodeURIComponent(pool)}/rebalance`)
    case 'plan':
      return showPlan(pool)
    case 'page-prev':
      return turnPage(-1)
    case 'page-next':
      return turnPage(1)
    case 'inspect':
      mergePools([pool])
      $('worker-pool').value = pool
      $('worker-id').value = b.dataset.id
      location.hash = '#worker'
      return inspect()
  }
})

// ---- rendering

function render () {
  // a hidden tab keeps its state current but draws nothing; visibilitychange catches up
  if (document.hidden) return
  renderCards()
  VIEW_RENDERERS[state.view]()
}

const VIEW_RENDERERS = {
  overview: renderOverview,
  nodes: renderNodes,
  pools: renderPools,
  worker: () => {},
  migrations: renderMigrations,
  events: renderEvents
}

function route () {
  const v = location.hash.slice(1)
  state.view = VIEWS.includes(v) ? v : 'overview'
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.dataset.view !== state.view
  for (const a of document.querySelectorAll('nav a')) {
    const here = a.getAttribute('href') === `#${state.view}`
    a.classList.toggle('active', here)
    if (here) a.setAttribute('aria-current', 'page')
    else a.removeAttribute('aria-current')
  }
  render()
}

/**
 * Keeps one row per key in `tbody`, in the order of `items`: `make(key)` builds a missing
 * row, `update(tr, item)` brings one up to date. With no items, one row says `empty`.
 */
function syncRows (tbody, items, attr, key, make, update, empty) {
  const old = new Map()
  for (const tr of [...tbody.rows]) old.set(tr.getAttribute(attr), tr)
  if (items.length === 0) {
    const cols = tbody.closest('table').tHead?.rows[0]?.cells.length ?? 1
    if (tbody.rows.length !== 1 || !tbody.rows[0].classList.contains('empty')) {
      fill(tbody, h('tr', { class: 'empty' }, h('td', { colspan: cols, text: empty })))
    }
    return
  }
  items.forEach((item, i) => {
    const k = key(item)
    let tr = old.get(k)
    if (tr === undefined) tr = make(k)
    else old.delete(k)
    update(tr, item)
    if (tbody.rows[i] !== tr) tbody.insertBefore(tr, tbody.rows[i] ?? null)
  })
  for (const tr of old.values()) tr.remove()
}

/** True when `el` last drew something other than `key` (and records `key`): skips identical redraws. */
function changed (el, key) {
  if (el.drawnKey === key) return false
  el.drawnKey = key
  return true
}

/** The nodes of the page, in the server's order: the serving node, those that need a look, then the rest, each part by id. */
const pageNodes = () => state.tick?.nodes ?? []

/** Which nodes of how many the page shows, and whether it can turn. */
function renderPager () {
  const total = state.tick?.totals.nodes ?? 0
  const shown = state.tick?.nodes?.length ?? 0
  const from = state.tick?.from ?? state.page.from
  const text = total === 0 ? '' : shown === 0 ? `none of ${total}` : `${from + 1}–${from + shown} of ${total}`
  for (const pager of document.querySelectorAll('.pager')) {
    setText(pager.querySelector('.range'), text)
    pager.querySelector('[data-action="page-prev"]').disabled = state.page.from === 0
    pager.querySelector('[data-action="page-next"]').disabled = from + shown >= total
    pager.hidden = total <= state.page.rows && state.page.from === 0
  }
}

function renderCards () {
  const t = state.tick?.totals
  if (t == null) return
  card('total-nodes', t.nodes, `${t.up} / ${t.nodes}`, t.up < t.nodes ? 'warn' : null)
  card('total-workers', t.workers, t.workers?.toLocaleString('en-US'))
  card('total-msgs', t.msgsPerSec, compact(t.msgsPerSec))
  card('total-failures', t.failuresPerSec, compact(t.failuresPerSec), t.failuresPerSec > 0 ? 'bad' : null)
  card('total-p50', t.p50Ms, `${millis(t.p50Ms)} ms`)
  card('total-p99', t.p99Ms, `${millis(t.p99Ms)} ms`)
  const agreed = state.tick.ringAgreed
  setTone($('placement'), `v${state.tick.version} · ${agreed === true ? 'rings agree' : agreed === false ? 'rings differ' : 'rings unknown'}`,
    agreed === true ? null : agreed === false ? 'bad' : 'warn')

  function card (id, value, text, tone = null) {
    const el = $(id)
    setNum(el, value, text)
    if (tone === null) el.removeAttribute('data-tone')
    else setAttr(el, 'data-tone', tone)
  }
}

// ---- overview: cards (above), charts and recent events

let charts = null

function renderOverview () {
  if (charts === null && !createCharts()) return
  const [at, msgs, fails, p50, p99] = state.history
  charts[0].setData([at, msgs, fails])
  charts[1].setData([at, p50, p99])
  const list = $('overview-events')
  if (changed(list, state.eventsVersion)) eventRows(list, state.events.slice(0, 8), 'No cluster events yet.')
}

/** Built the first time the overview is visible: uPlot needs the container's width. */
function createCharts () {
  const rate = $('chart-rate')
  const latency = $('chart-latency')
  if (rate.clientWidth === 0) return false
  const axis = (more = {}) => ({ stroke: '#8b95a5', grid: { stroke: '#252c38', width: 1 }, ticks: { stroke: '#252c38', width: 1 }, ...more })
  // always the last five minutes, so markers and a fresh page sit where they will stay
  const window5 = { time: true, range: (u, min, max) => { const end = max ?? Date.now() / 1000; return [end - HISTORY, end] } }
  // one row of 24-hour clock labels, like the event tables (uPlot's default adds a date row)
  const timeAxis = axis({ space: 80, values: (u, splits) => splits.map(v => clock(v * 1000)) })
  const fromZero = (u, min, max) => [0, max == null || max <= 0 ? 1 : max * 1.15]
  const line = (label, stroke, scale, fmt, fill) => ({ label, stroke, scale, fill, width: 1.5, value: (u, v) => v == null ? '—' : fmt(v) })
  const base = (el, labels) => ({
    width: el.clientWidth,
    height: 200,
    cursor: { sync: { key: 'simplepool' }, drag: { x: false, y: false } },
    plugins: [markers(labels)]
  })
  charts = [
    new uPlot({
      ...base(rate, true),
      scales: { x: window5, msgs: { range: fromZero }, fails: { range: fromZero } },
      series: [{}, line('msgs/s', '#5aa9ff', 'msgs', compact, 'rgba(90,169,255,0.10)'), line('failures/s', '#ff6b6b', 'fails', compact)],
      axes: [timeAxis, axis({ scale: 'msgs', values: (u, splits) => splits.map(compact) }), axis({ scale: 'fails', side: 1, grid: { show: false } })]
    }, [[], [], []], rate),
    new uPlot({
      ...base(latency, false),
      scales: { x: window5, ms: { range: fromZero } },
      series: [{}, line('p50 ms', '#4cc38a', 'ms', millis), line('p99 ms', '#f0a53a', 'ms', millis)],
      axes: [timeAxis, axis({ scale: 'ms' })]
    }, [[], [], []], latency)
  ]
  // no timer: the observer says when the window (or the view's visibility) changes the width
  new ResizeObserver(() => {
    for (const c of charts) {
      const w = c.root.parentElement.clientWidth
      if (w > 0 && w !== c.width) c.setSize({ width: w, height: 200 })
    }
  }).observe($('view-overview'))
  return true
}

/**
 * uPlot plugin: a dashed vertical line at each marked cluster event and, with `labels`, its
 * name in the first of three label rows with room for it (none when all three are taken:
 * a burst of events draws its lines, not an unreadable pile of text).
 */
function markers (labels) {
  return {
    hooks: {
      draw: (u) => {
        const { ctx, bbox } = u
        const px = uPlot.pxRatio
        const { min, max } = u.scales.x
        const rowEnds = [-Infinity, -Infinity, -Infinity]
        ctx.save()
        ctx.lineWidth = px
        ctx.setLineDash([4 * px, 3 * px])
        ctx.font = `${10 * px}px system-ui, sans-serif`
        ctx.textBaseline = 'top'
        for (const m of state.marks) {
          if (m.t < min || m.t > max) continue
          const x = Math.round(u.valToPos(m.t, 'x', true)) + 0.5
          ctx.strokeStyle = ctx.fillStyle = MARK_COLOURS[m.kind] ?? '#aaa'
          ctx.beginPath()
          ctx.moveTo(x, bbox.top)
          ctx.lineTo(x, bbox.top + bbox.height)
          ctx.stroke()
          if (!labels) continue
          const w = ctx.measureText(m.label).width
          const left = x + 3 * px + w > bbox.left + bbox.width ? x - 3 * px - w : x + 3 * px
          const row = rowEnds.findIndex(end => left > end + 6 * px)
          if (row < 0) continue
          rowEnds[row] = left + w
          ctx.fillText(m.label, left, bbox.top + (2 + 12 * row) * px)
        }
        ctx.restore()
      }
    }
  }
}

// ---- nodes

const NODE_FIELDS = ['node', 'status', 'liveness', 'health', 'reasons', 'loop', 'rss', 'heap', 'workers', 'replicas', 'msgs', 'pools', 'actions']
const NUMERIC = new Set(['loop', 'rss', 'heap', 'workers', 'replicas', 'msgs'])

function renderNodes () {
  renderPager()
  const write = writeMode()
  syncRows($('nodes-body'), pageNodes(), 'data-node', n => n.node,
    (id) => h('tr', { 'data-node': id }, NODE_FIELDS.map(f => h('td', { 'data-field': f, class: NUMERIC.has(f) ? 'num' : null }))),
    (tr, n) => fillNode(tr, n, write),
    state.tick === null ? 'Waiting for the first tick…' : 'No nodes.')
}

function fillNode (tr, n, write) {
  const cell = (f) => tr.cells[NODE_FIELDS.indexOf(f)]
  setText(cell('node'), `${short(n.node)}${n.self ? ' (this)' : ''}`, n.node)
  setTone(cell('status'), n.status ?? '—', TONES.status[n.status])
  setTone(cell('liveness'), n.liveness ?? '—', TONES.liveness[n.liveness])
  setTone(cell('health'), n.health ?? '—', TONES.health[n.health])
  setText(cell('reasons'), n.error ?? (n.reasons ?? []).join('; '))
  setText(cell('loop'), n.loopP99Ms == null ? '—' : `${fixed(n.loopP99Ms)} ms`)
  setText(cell('rss'), mb(n.rssBytes))
  setText(cell('heap'), mb(n.heapUsedBytes))
  // a node that did not answer may still carry zeros: show them as unknown, not as idle
  const answered = n.error == null
  setNum(cell('workers'), answered ? n.workers : null, String(n.workers))
  setNum(cell('replicas'), answered ? n.replicas : null, String(n.replicas))
  setAttr(cell('replicas'), 'title', n.replicaBytes == null ? '' : `${n.replicaBytes.toLocaleString('en-US')} bytes of state`)
  setNum(cell('msgs'), answered ? n.msgsPerSec : null, fixed(n.msgsPerSec))
  const pools = Object.entries(n.pools ?? {})
  setText(cell('pools'), pools.map(([p, s]) => `${p}  ${pct(s.targetShare)} / ${pct(s.share)}`).join('\n'))
  setAttr(cell('pools'), 'data-tone', pools.some(([, s]) => Math.abs((s.share ?? 0) - (s.targetShare ?? 0)) > SHARE_SLACK) ? 'warn' : 'plain')
  tr.classList.toggle('unreachable', n.error != null)
  // lets the stylesheet dim the button that would not change anything now
  setAttr(tr, 'data-status', n.status ?? '')
  if (tr.dataset.write !== String(write)) {
    tr.dataset.write = String(write)
    fill(cell('actions'), write
      ? [h('button', { type: 'button', 'data-action': 'drain', text: 'Drain' }), h('button', { type: 'button', 'data-action': 'undrain', text: 'Undrain' })]
      : null)
  }
}

// ---- pools: node × pool worker counts

function renderPools () {
  renderPager()
  const pools = state.pools
  const write = writeMode()
  const head = $('pools-head')
  if (changed(head, `${pools.join('\n')}|${write}`)) {
    fill(head, h('tr', {}, h('th', { text: 'Node' }), pools.map(p => h('th', { class: 'num' },
      h('div', { text: p }),
      h('div', { class: 'tools' },
        write ? h('button', { type: 'button', 'data-action': 'rebalance', 'data-pool': p, text: 'Rebalance' }) : null,
        h('button', { type: 'button', 'data-action': 'plan', 'data-pool': p, text: 'Plan' })))),
    h('th', { class: 'num', text: 'Total' })))
  }
  const nodes = pageNodes()
  // the pool list is part of the key: a pool seen for the first time rebuilds the rows with one more cell
  syncRows($('pools-body'), nodes, 'data-key', n => `${n.node}|${pools.join(',')}`,
    (k) => h('tr', { 'data-key': k }, h('td'), pools.map(() => h('td', { class: 'num' })), h('td', { class: 'num total' })),
    (tr, n) => {
      setText(tr.cells[0], `${short(n.node)}${n.self ? ' (this)' : ''}`, n.node)
      pools.forEach((p, i) => {
        const s = n.pools?.[p]
        setText(tr.cells[i + 1], s == null ? '—' : String(s.count), s == null ? '' : `target share ${pct(s.targetShare)}, actual ${pct(s.share)}; target ${s.target}`)
        setAttr(tr.cells[i + 1], 'data-tone', s != null && Math.abs(s.share - s.targetShare) > SHARE_SLACK ? 'warn' : 'plain')
      })
      setText(tr.cells[pools.length + 1], n.error != null ? '—' : String(pools.reduce((a, p) => a + (n.pools?.[p]?.count ?? 0), 0)))
    },
    state.tick === null ? 'Waiting for the first tick…' : 'No nodes.')
  // over every node, not the page's (a server before pages sent every node, and no totals per pool)
  const every = state.tick?.totals.pools
  const sums = pools.map(p => every != null ? (every[p]?.count ?? 0) : nodes.reduce((a, n) => a + (n.pools?.[p]?.count ?? 0), 0))
  const foot = $('pools-foot')
  const key = sums.join(',')
  if (changed(foot, key)) {
    fill(foot, h('tr', {}, h('th', { text: 'Total' }), sums.map(s => h('th', { class: 'num', text: String(s) })),
      h('th', { class: 'num', text: String(sums.reduce((a, b) => a + b, 0)) })))
  }
}

async function showPlan (pool) {
  const panel = $('plan')
  panel.hidden = false
  fill(panel, h('h2', { text: `Plan for ${pool}` }), h('p', { class: 'muted', text: 'Asking…' }))
  const r = await call('GET', `pools/${encodeURIComponent(pool)}/plan`)
  if (!r.ok) return fill(panel, h('h2', { text: `Plan for ${pool}` }), h('p', { class: 'error', text: errorText(r) }))
  const moves = r.body.moves ?? []
  fill(panel,
    h('h2', {}, `Plan for ${pool} `, h('span', { class: 'muted', text: `asked at ${clock(Date.now())}` })),
    h('p', { text: moves.length === 0 ? 'Nothing to move: the pool is balanced.' : `A rebalance would move ${r.body.total} workers now:` }),
    moves.length === 0
      ? null
      : h('table', { class: 'grid compact' },
        h('thead', {}, h('tr', {}, h('th', { text: 'From' }), h('th', { text: 'To' }), h('th', { class: 'num', text: 'Workers' }))),
        h('tbody', {}, moves.map(m => h('tr', {}, peerCell(m.from), peerCell(m.to), h('td', { class: 'num', text: String(m.workers) }))))))
}

const peerCell = (id) => h('td', { title: id, text: short(id) })

// ---- worker inspector

async function inspect () {
  const pool = $('worker-pool').value
  const id = $('worker-id').value.trim()
  const out = $('worker-result')
  if (pool === '' || id === '') return
  fill(out, h('p', { class: 'muted', text: 'Asking…' }))
  const r = await call('GET', `workers/${encodeURIComponent(pool)}/${encodeURIComponent(id)}`)
  const b = r.body ?? {}
  const rows = []
  if (r.ok) {
    rows.push(['Worker', `${b.pool} / ${b.id}`], ['Node', b.node, true], ['Epoch', b.epoch], ['Mailbox', b.mailbox], ['Why', `${b.why}: ${b.detail ?? ''}`])
  }
  if (b.owner !== undefined) rows.push(['Ring owner', b.owner, true])
  fill(out,
    r.ok ? null : h('p', { class: 'error', text: errorText(r) }),
    rows.length === 0
      ? null
      : h('dl', { class: 'facts' }, rows.map(([k, v, peer]) => [h('dt', { text: k }), h('dd', { title: peer ? v : null, text: peer ? `${short(v)}  (${v})` : String(v ?? '—') })])),
    Array.isArray(b.moves) && b.moves.length > 0
      ? h('div', { class: 'panel' }, h('h2', { text: 'Moves' }), h('table', { class: 'grid compact' },
        h('thead', {}, h('tr', {}, ['Time', 'From', 'To', 'Epoch'].map(t => h('th', { text: t })))),
        h('tbody', {}, b.moves.map(m => h('tr', {}, h('td', { text: clock(m.at), title: new Date(m.at).toISOString() }), peerCell(m.from), peerCell(m.to), h('td', { text: String(m.epoch) }))))))
      : r.ok || b.moves !== undefined ? h('p', { class: 'muted', text: 'No moves recorded.' }) : null)
}

// ---- migrations

function renderMigrations () {
  // of every node, whatever page the nodes view is on (a server before pages: the rows it sent)
  const moving = state.tick?.moving ?? pageNodes().filter(n => n.status === 'draining' || n.migrationBacklog > 0)
  syncRows($('migrations-body'), moving, 'data-key', n => n.node,
    (id) => h('tr', { 'data-key': id }, h('td', { title: id, text: short(id) }), h('td'), h('td', { class: 'num' }), h('td', { class: 'num' }), h('td', { class: 'num' })),
    (tr, n) => {
      setTone(tr.cells[1], n.status, TONES.status[n.status])
      setText(tr.cells[2], String(n.workers ?? '—'))
      setText(tr.cells[3], String(n.migrationBacklog ?? '—'))
      setText(tr.cells[4], fixed(n.msgsPerSec))
    },
    'No node is draining or handing workers over.')
  const list = $('migrations-events')
  if (changed(list, state.eventsVersion)) {
    eventRows(list, state.events.filter(e => /^(migration|drain):/.test(e.type)).slice(0, 40), 'No migration or drain events kept.')
  }
}

// ---- events

function renderEvents () {
  const filter = $('events-filter').value.trim().toLowerCase()
  const body = $('events-body')
  if (!changed(body, `${state.eventsVersion}|${filter}`)) return
  const shown = filter === '' ? state.events : state.events.filter(e => e.text.includes(filter))
  setText($('events-count'), `${shown.length} of ${state.events.length} kept`)
  eventRows(body, shown, filter === '' ? 'No cluster events yet.' : 'No event matches.')
}

function eventRows (tbody, list, empty) {
  fill(tbody, list.length === 0
    ? h('tr', { class: 'empty' }, h('td', { colspan: 4, text: empty }))
    : list.map(e => h('tr', { 'data-type': e.type },
      h('td', { class: 'time', text: clock(e.at), title: new Date(e.at).toISOString() }),
      h('td', { class: `type ${e.type.slice(0, e.type.indexOf(':'))}`, text: e.type }),
      h('td', { title: e.node, text: e.node == null ? '—' : short(e.node) }),
      h('td', { class: 'details' }, details(e)))))
}

/** The fields other than at / node / type, one `key=value` chip each; peer ids shortened. */
function details (e) {
  const chips = Object.entries(e.fields).map(([k, v]) => {
    const full = typeof v === 'string' ? v : JSON.stringify(v)
    return h('span', { class: 'kv', title: full.length > 40 || isPeer(v) ? full : null }, h('b', { text: k }), `=${show(v)}`)
  })
  if (e.fields.pool != null && e.fields.id != null) {
    chips.push(h('button', { type: 'button', class: 'link', 'data-action': 'inspect', 'data-pool': e.fields.pool, 'data-id': e.fields.id, text: 'inspect' }))
  }
  return chips
}

const isPeer = (v) => typeof v === 'string' && v.length >= 40 && /^[1-9A-HJ-NP-Za-km-z]+$/.test(v)

function show (v) {
  if (isPeer(v)) return short(v)
  if (Array.isArray(v)) return v.map(show).join(', ')
  if (v !== null && typeof v === 'object') {
    if (typeof v.name === 'string' && typeof v.message === 'string') return `${v.name}: ${v.message}`
    const s = JSON.stringify(v)
    return s.length > 80 ? `${s.slice(0, 79)}…` : s
  }
  // durations and rates come as floats: a tenth is enough to read
  if (typeof v === 'number' && !Number.isInteger(v)) return v.toFixed(1)
  return String(v)
}

// ---- start

initToken()
$('notice').lastElementChild.addEventListener('click', () => { $('notice').hidden = true })
$('worker-form').addEventListener('submit', (e) => { e.preventDefault(); void inspect() })
$('events-filter').addEventListener('input', () => renderEvents())
window.addEventListener('hashchange', route)
// a window that shows more or fewer rows asks for them, once it has settled
let resized = null
window.addEventListener('resize', () => {
  clearTimeout(resized)
  resized = setTimeout(() => { if (rowsOnScreen() !== state.page.rows) reconnect() }, 500)
})
document.addEventListener('visibilitychange', render)
route()
connect()
