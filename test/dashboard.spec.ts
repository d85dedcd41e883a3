import { expect } from 'chai'
import { startCluster } from '@simplepool/testing'
import type { Cluster, NodeHandle } from '@simplepool/testing'
import { CHROMIUM, browserAvailable, openBrowser } from './browser.js'
import type { OpenBrowser } from './browser.js'

const TOKEN = 'dashboard-admin-token'
const WORKERS = 3_000

/** Workers of `pool` live on `node` now. */
async function localCount (node: NodeHandle, pool: string): Promise<number> {
  const r = await node.request<{ ok: boolean, value: number }>('count', { pool, local: true })
  if (!r.ok) throw new Error(`count failed: ${JSON.stringify(r)}`)
  return r.value
}

// without Debian's chromium (a machine .ci/run could not install it on) the test says so and skips
const title = (t: string): string => browserAvailable() ? t : `${t} (skipped: no ${CHROMIUM} on this machine)`
const maybe = browserAvailable() ? describe : describe.skip

maybe(title('the dashboard in headless Chromium, against a 3-process cluster'), function () {
  this.timeout(90_000)
  let cluster: Cluster
  let nodes: NodeHandle[]
  let url: string
  let browser: OpenBrowser | undefined
  const pageErrors: string[] = []

  before(async () => {
    cluster = await startCluster({ nodes: 3, pools: ['counter'], admin: { token: TOKEN } })
    nodes = cluster.nodes
    await cluster.waitForConvergence()
    const { port } = await nodes[0].request<{ port: number }>('adminAddress')
    url = `http://127.0.0.1:${port}/dashboard/`
    const spawned = await nodes[0].request<{ live: number }>('spawnMany', { pool: 'counter', n: WORKERS })
    expect(spawned.live).to.equal(WORKERS)
    browser = await openBrowser()
    browser.page.on('pageerror', (err) => { pageErrors.push(err.message) })
    // what the console reports too: a script or style the page's content policy refused, a failed request
    browser.page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()) })
    // the page asks before it moves workers: say yes
    browser.page.on('dialog', (d) => { void d.accept() })
  })

  after(async () => {
    await browser?.close()
    await cluster?.stop()
  })

  it('loads, lists the 3 nodes, and its message rate rises while traffic runs', async () => {
    const page = (browser as OpenBrowser).page
    await page.goto(url)
    await page.waitForSelector('#conn[data-state="open"]', { timeout: 10_000 })
    await page.waitForFunction(() => document.querySelector('#total-nodes')?.getAttribute('data-value') === '3', undefined, { timeout: 10_000 })

    await page.click('a[href="#nodes"]')
    await page.waitForFunction(() => document.querySelectorAll('tr[data-node]').length === 3, undefined, { timeout: 10_000 })
    const listed = await page.$$eval('tr[data-node]', rows => rows.map(r => r.getAttribute('data-node')))
    expect(listed.sort()).to.deep.equal(nodes.map(n => n.peerId).sort())
    // the page's counts are the cluster's
    const shown = await page.$$eval('tr[data-node] [data-field="workers"]', cells => cells.reduce((s, c) => s + Number(c.getAttribute('data-value')), 0))
    expect(shown).to.equal(WORKERS)

    await page.click('a[href="#overview"]')
    // nothing runs yet: the page says so before the traffic, so a rise is the traffic's
    await page.waitForFunction(() => Number(document.querySelector('#total-msgs')?.getAttribute('data-value')) < 20, undefined, { timeout: 10_000 })
    const traffic = nodes[1].request<{ calls: number }>('traffic', { pool: 'counter', n: WORKERS, seconds: 6, concurrency: 16 }, 30_000)
    const rose = page.waitForFunction(() => Number(document.querySelector('#total-msgs')?.getAttribute('data-value')) > 100, undefined, { timeout: 15_000 })
    // both settle before either is judged: a failed wait must not leave the traffic running unawaited
    const [seen, sent] = await Promise.allSettled([rose, traffic])
    if (sent.status === 'rejected') throw sent.reason
    expect(sent.value.calls).to.be.above(100)
    if (seen.status === 'rejected') throw seen.reason
    expect(pageErrors).to.deep.equal([])
  })

  it('asks for the rows one screen shows: a page of 2 of the 3 nodes, the next page the third, totals over all 3', async () => {
    const page = (browser as OpenBrowser).page
    await page.goto(`${url}?rows=2#nodes`)
    const rows = async (): Promise<string[]> => await page.$$eval('tr[data-node]', r => r.map(x => x.getAttribute('data-node') ?? ''))
    await page.waitForFunction(() => document.querySelectorAll('tr[data-node]').length === 2 && document.querySelector('#view-nodes .pager .range')?.textContent === '1–2 of 3', undefined, { timeout: 10_000 })
    const first = await rows()
    // this node first
    expect(first[0]).to.equal(nodes[0].peerId)
    await page.click('#view-nodes .pager [data-action="page-next"]')
    await page.waitForFunction(() => document.querySelector('#view-nodes .pager .range')?.textContent === '3–3 of 3', undefined, { timeout: 10_000 })
    await page.waitForFunction(() => document.querySelectorAll('tr[data-node]').length === 1, undefined, { timeout: 10_000 })
    const second = await rows()
    expect([...first, ...second].sort()).to.deep.equal(nodes.map(n => n.peerId).sort())
    // the pools' totals count every node, not the page's one
    await page.click('a[href="#pools"]')
    await page.waitForFunction((n) => document.querySelector('#pools-foot th:last-child')?.textContent === String(n), WORKERS, { timeout: 10_000 })
    expect(await page.$$('#pools-body tr')).to.have.length(1)
    await page.click('#view-pools .pager [data-action="page-prev"]')
    await page.waitForFunction(() => document.querySelectorAll('#pools-body tr').length === 2, undefined, { timeout: 10_000 })
    expect(pageErrors).to.deep.equal([])
    // the other tests read every row
    await page.goto(url)
    await page.waitForSelector('#conn[data-state="open"]', { timeout: 10_000 })
  })

  it('has no write buttons without the token; with it, a drain from the page empties the node, and an undrain takes it back', async () => {
    const page = (browser as OpenBrowser).page
    const target = nodes[2]
    await page.click('a[href="#nodes"]')
    await page.waitForSelector(`tr[data-node="${target.peerId}"]`)
    expect(await page.$$('button[data-action="drain"]')).to.have.length(0)
    expect(await localCount(target, 'counter')).to.be.above(0)

    await page.fill('#token', TOKEN)
    await page.click('#token-save')
    const row = `tr[data-node="${target.peerId}"]`
    await page.waitForSelector(`${row} button[data-action="drain"]`, { timeout: 5_000 })
    await page.click(`${row} button[data-action="drain"]`)
    // the page shows it: draining, and down to no worker
    await page.waitForFunction((sel) => {
      const r = document.querySelector(sel)
      return r?.querySelector('[data-field="status"]')?.textContent === 'draining' && r?.querySelector('[data-field="workers"]')?.getAttribute('data-value') === '0'
    }, row, { timeout: 30_000 })
    expect(await localCount(target, 'counter')).to.equal(0)
    // nothing lost: every worker is on the two others
    expect(await localCount(nodes[0], 'counter') + await localCount(nodes[1], 'counter')).to.equal(WORKERS)
    // the migrations view lists it (from the tick's moving nodes, whatever page the nodes view is on)
    await page.click('a[href="#migrations"]')
    await page.waitForSelector(`#migrations-body tr[data-key="${target.peerId}"]`, { timeout: 5_000 })
    await page.click('a[href="#nodes"]')

    await page.click(`${row} button[data-action="undrain"]`)
    await page.waitForFunction((sel) => document.querySelector(sel)?.querySelector('[data-field="status"]')?.textContent === 'up', row, { timeout: 15_000 })
    expect(pageErrors).to.deep.equal([])
  })
})
