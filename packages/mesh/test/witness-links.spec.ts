import '@simplepool/core/polyfill'
import { expect } from 'chai'
import { systemClock } from '@simplepool/core'
import type { Libp2p } from '@libp2p/interface'
import { HandshakeWitness } from '../src/handshake-witness.js'
import { createLinkHost } from '../src/host.js'
import { WitnessLinks } from '../src/witness/witness-links.js'
import type { WitnessMessage } from '../src/witness/witness-messages.js'

const quiet = { error () {}, warn () {}, info () {}, debug () {} }

/** Real hosts on loopback, each with witness links that record what they hear and report. */
async function hosts (n: number): Promise<Array<{ host: Libp2p, links: WitnessLinks, heard: Array<[string, WitnessMessage]>, closed: string[], refused: string[] }>> {
  const made = await Promise.all(Array.from({ length: n }, async () => await createLinkHost({ listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], witness: new HandshakeWitness(systemClock), allow: ['/ip4/127.0.0.1/ipcidr/32'] })))
  await Promise.all(made.map(async h => { await h.start() }))
  const address = new Map(made.map(h => [h.peerId.toString(), h.getMultiaddrs().map(String)]))
  return await Promise.all(made.map(async (host) => {
    const node = { host, heard: [] as Array<[string, WitnessMessage]>, closed: [] as string[], refused: [] as string[] }
    const links = new WitnessLinks({
      host,
      clock: systemClock,
      logger: quiet,
      addressesOf: peer => address.get(peer),
      receive: (from, m) => { node.heard.push([from, m]) },
      closed: (peer) => { node.closed.push(peer) },
      refused: (peer) => { node.refused.push(peer) },
      dialTimeoutMs: 3_000,
      redialMs: 200
    })
    await links.start()
    return { ...node, links }
  }))
}

async function eventually (done: () => boolean, ms: number): Promise<void> {
  const t0 = Date.now()
  while (!done()) {
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

describe('WitnessLinks (real hosts on loopback)', function () {
  this.timeout(20_000)
  let nodes: Awaited<ReturnType<typeof hosts>> = []

  afterEach(async () => {
    await Promise.all(nodes.map(async (n) => {
      await n.links.stop().catch(() => {})
      await n.host.stop().catch(() => {})
    }))
    nodes = []
  })

  it('carries messages in order, opening the link on the first; a peer whose host stops is refused on the redial made at once (no message need come)', async () => {
    nodes = await hosts(3)
    const [a, b, c] = nodes
    const id = (n: typeof a): string => n.host.peerId.toString()
    for (let seq = 0; seq < 20; seq++) a.links.send(id(b), { t: 'beat', seq, echo: -1, miss: false, gen: 1, epoch: 0, updates: [] })
    c.links.send(id(b), { t: 'news', updates: [{ k: 'dead', peer: 'x', gen: 1, from: id(c) }] })
    await eventually(() => b.heard.length === 21, 5_000)
    expect(b.heard.filter(([from]) => from === id(a)).map(([, m]) => (m as { seq: number }).seq)).to.deep.equal([...Array(20).keys()])
    expect(b.heard.find(([from]) => from === id(c))?.[1]).to.deep.equal({ t: 'news', updates: [{ k: 'dead', peer: 'x', gen: 1, from: id(c) }] })
    // b goes: a's stream to it closes, and the redial finds nothing listening
    await b.links.stop()
    await b.host.stop()
    await eventually(() => a.refused.includes(id(b)), 5_000)
    expect(a.closed).to.include(id(b))
  })

  it('a link whose connection this node closed itself is lost and opened again: sending on it throws nothing', async () => {
    nodes = await hosts(2)
    const [a, b] = nodes
    const id = (n: typeof a): string => n.host.peerId.toString()
    const beat = (seq: number): WitnessMessage => ({ t: 'beat', seq, echo: -1, miss: false, gen: 1, epoch: 0, updates: [] })
    a.links.send(id(b), beat(0))
    await eventually(() => b.heard.length === 1, 5_000)
    // this side hangs up (as its connection manager may): the stream is closing for writes at once
    await Promise.all(a.host.getConnections().map(async c => { await c.close() }))
    expect(() => { a.links.send(id(b), beat(1)) }).not.to.throw()
    await eventually(() => a.closed.includes(id(b)), 5_000)
    // past the redial pause, the next message opens it again
    await new Promise(resolve => setTimeout(resolve, 250))
    a.links.send(id(b), beat(2))
    await eventually(() => b.heard.some(([, m]) => (m as { seq: number }).seq === 2), 5_000)
  })

  it('stop closes the streams peers opened here, and reads no more from them', async () => {
    nodes = await hosts(2)
    const [a, b] = nodes
    const id = (n: typeof a): string => n.host.peerId.toString()
    a.links.send(id(b), { t: 'news', updates: [] })
    await eventually(() => b.heard.length === 1, 5_000)
    await b.links.stop()
    // a's stream to b is closed from b's side: a learns its link is lost
    await eventually(() => a.closed.includes(id(b)), 5_000)
    expect(b.heard.length).to.equal(1)
  })
})
