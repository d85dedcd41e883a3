import { expect } from 'chai'
import { DEFAULT_DOWN_AFTER_MS, MEMBERSHIP_SWEEP_MS } from '@simplepool/core'
import { SimCluster } from '../src/sim-cluster.js'
import { counter } from './fixtures.js'

describe('SimCluster', () => {
  it('forms a cluster through gossip: every node sees every other up and places alike', async () => {
    const sim = new SimCluster({ seed: 11, pools: [counter] })
    for (const id of ['A', 'B', 'C', 'D']) sim.add(id)
    await sim.started()
    await sim.advance(1_000)
    const rings = [...sim.nodes.values()].map(n => n.placement().ring('counter')?.fingerprint)
    expect(new Set(rings).size).to.equal(1)
    for (const n of sim.nodes.values()) {
      expect(n.view.snapshot().members.map(m => `${m.peerId}:${m.status}:${m.liveness}`)).to.deep.equal(['A:up:alive', 'B:up:alive', 'C:up:alive', 'D:up:alive'])
    }
  })

  it('finds a killed node by its closed connections at once, and the others take its workers; theirs keep every acknowledged increment', async () => {
    const sim = new SimCluster({ seed: 12, pools: [counter] })
    for (const id of ['A', 'B', 'C']) sim.add(id)
    await sim.started()
    await sim.advance(1_000)
    const n = 300
    const acked = new Array<number>(n).fill(0)
    const failed = new Array<number>(n).fill(0)
    const a = sim.nodes.get('A')
    const b = sim.nodes.get('B')
    const c = sim.nodes.get('C')
    if (a === undefined || b === undefined || c === undefined) throw new Error('nodes missing')
    let sending = true
    const send = (): void => {
      if (!sending) return
      const from = sim.random.next() < 0.5 ? a : b
      const i = Math.floor(sim.random.next() * n)
      from.runtime.call('counter', `w${i}`, 'inc').then(() => { acked[i]++ }, () => { failed[i]++ })
      sim.clock.setTimeout(send, sim.random.next() * 4)
    }
    send()
    await sim.advance(2_000)
    // which ids lived on C when it died: their state dies with it
    const onC = new Set(Array.from({ length: n }, (_, i) => `w${i}`).filter(id => c.runtime.pool('counter')?.epochOf(id) !== undefined))
    expect(onC.size).to.be.above(30)
    const killedAt = sim.clock.monotonic()
    let downAt = -1
    a.view.addEventListener('member:down', (e) => { if (e.detail.peerId === 'C') downAt = sim.clock.monotonic() })
    c.kill()
    await sim.advance(5_000)
    sending = false
    await sim.advance(6_000)
    // its sockets close with it: suspect at the close, down when the redial is refused
    expect(downAt - killedAt).to.be.within(0, 10)
    const wrong: string[] = []
    for (let i = 0; i < n; i++) {
      const id = `w${i}`
      const v = await sim.until(a.runtime.call('counter', id, 'get') as Promise<number>)
      if (onC.has(id)) continue
      if (v < acked[i] || v > acked[i] + failed[i]) wrong.push(`${id}: ${v}, acked ${acked[i]}, failed ${failed[i]}`)
    }
    expect(wrong).to.deep.equal([])
    expect(acked.reduce((x, y) => x + y, 0)).to.be.above(2_000)
  })

  it('finds a node cut off from the others by its silence, within the down deadline', async () => {
    const sim = new SimCluster({ seed: 13, pools: [counter] })
    for (const id of ['A', 'B', 'C']) sim.add(id)
    await sim.started()
    await sim.advance(1_000)
    let downAt = -1
    sim.nodes.get('A')?.view.addEventListener('member:down', (e) => { if (e.detail.peerId === 'C') downAt = sim.clock.monotonic() })
    const cutAt = sim.clock.monotonic()
    for (const other of ['A', 'B']) sim.network.partition('C', other)
    await sim.advance(5_000)
    // silence alone: down within the deadline after its last record, and a sweep
    expect(downAt - cutAt).to.be.within(DEFAULT_DOWN_AFTER_MS - 600, DEFAULT_DOWN_AFTER_MS + MEMBERSHIP_SWEEP_MS + 10)
  })
})
