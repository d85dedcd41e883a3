/**
 * One process of the witness scenario (witness.bench.ts forks it): bare libp2p hosts,
 * each running witness membership (the member list by joins and pushes over the links,
 * the failure detector beside it) over witness links, answering the parent over IPC.
 * Several nodes share the process, as in the scale scenario.
 */
import '@simplepool/core/polyfill'
import type { Libp2p } from '@libp2p/interface'
import { systemClock, systemRandom } from '@simplepool/core'
import { HandshakeWitness } from '../packages/mesh/src/handshake-witness.js'
import { createLinkHost } from '../packages/mesh/src/host.js'
import { WitnessMembership } from '../packages/mesh/src/witness/witness-membership.js'
import { WitnessLinks } from '../packages/mesh/src/witness/witness-links.js'
import type { WitnessAnswer, WitnessAsk } from './witness-protocol.js'

const quiet = { error () {}, warn () {}, info () {}, debug () {} }
const hosts: Libp2p[] = []
const opened = new Map<Libp2p, number>()
/** Each node, and the peers it joins through (none for the first bootstrap node: it starts the cluster). */
const nodes: Array<{ membership: WitnessMembership, links: WitnessLinks, downs: Record<string, number>, via: string[] }> = []

function reply (answer: WitnessAnswer): void {
  process.send?.(answer)
}

async function start (count: number): Promise<void> {
  const made = await Promise.all(Array.from({ length: count }, async () => await createLinkHost({ listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], witness: new HandshakeWitness(systemClock), allow: ['/ip4/127.0.0.1/ipcidr/32'] })))
  await Promise.all(made.map(async h => { await h.start() }))
  // connections each host opened or accepted: a start costs a handshake each
  for (const h of made) h.addEventListener('connection:open', () => { opened.set(h, (opened.get(h) ?? 0) + 1) })
  hosts.push(...made)
  reply({ type: 'started', nodes: made.map(h => ({ peerId: h.peerId.toString(), address: h.getMultiaddrs()[0].toString() })) })
}

async function link (bootstraps: Array<{ peerId: string, address: string }>, k: number): Promise<void> {
  const known = new Map(bootstraps.map(b => [b.peerId, b.address]))
  for (const host of hosts) {
    const self = host.peerId.toString()
    const downs: Record<string, number> = {}
    const membership: WitnessMembership = new WitnessMembership({
      self: { peerId: self, addresses: host.getMultiaddrs().map(String), status: 'up', pools: {} },
      clock: systemClock,
      random: systemRandom,
      send: (peer, m) => { links.send(peer, m) },
      unlinked: (peer) => { links.close(peer) }
    }, { witnesses: k })
    membership.addEventListener('member:down', (evt) => { downs[evt.detail.peerId] ??= Date.now() })
    const links: WitnessLinks = new WitnessLinks({
      host,
      clock: systemClock,
      logger: quiet,
      addressesOf: (peer) => membership.addressesOf(peer) ?? (known.has(peer) ? [known.get(peer) as string] : undefined),
      receive: (from, m) => { membership.receive(from, m) },
      closed: (peer) => { membership.linkClosed(peer) },
      refused: (peer) => { membership.refused(peer) },
      // (a handshake may queue behind hundreds when a hundred nodes start at once)
      dialTimeoutMs: 10_000,
      redialMs: 1_000,
      // a node names a witness that may not know it yet (its record travels on this very
      // link): waiting for the witness to dial first would hold every such link a second
      acceptMs: 0
    })
    await links.start()
    // the first bootstrap node starts the cluster; every other node starts at a random one of them (the load of the pulls spread)
    const ids = bootstraps.map(b => b.peerId)
    const first = Math.floor(Math.random() * ids.length)
    const via = ids[0] === self ? [] : [...ids.slice(first), ...ids.slice(0, first)].filter(p => p !== self)
    nodes.push({ membership, links, downs, via })
  }
  reply({ type: 'linked' })
}

process.on('message', (m: WitnessAsk) => {
  if (m.type === 'start') void start(m.count)
  else if (m.type === 'bootstrap') void link(m.peers, m.witnesses)
  else if (m.type === 'go') {
    for (const n of nodes) n.membership.start(n.via)
    reply({ type: 'going' })
  } else if (m.type === 'state') {
    // up as a node's view has it: announced up, and not held down (a suspect is a member still: it keeps its workers)
    const up = nodes.map(n => n.membership.snapshot().members.filter(x => x.status === 'up' && x.liveness !== 'down').length)
    reply({ type: 'state', leased: nodes.map(n => n.membership.holdsLease()), up, downs: nodes.map(n => n.downs), opened: hosts.map(h => opened.get(h) ?? 0), open: hosts.map(h => h.getConnections().length) })
  } else if (m.type === 'stop') {
    for (const n of nodes) n.membership.stop()
    void Promise.all(nodes.map(async n => { await n.links.stop() })).then(async () => await Promise.all(hosts.map(async h => { await h.stop() }))).finally(() => process.exit(0))
  }
})
// the parent went: nothing is left to answer
process.on('disconnect', () => process.exit(0))
reply({ type: 'ready' })
