/**
 * One process of the witness scenario (witness.bench.ts forks it): bare libp2p hosts,
 * each running the witness failure detector over witness links, answering the parent
 * over IPC. Several nodes share the process, as in the scale scenario.
 */
import '@simplepool/core/polyfill'
import type { Libp2p } from '@libp2p/interface'
import { systemClock } from '@simplepool/core'
import { HandshakeWitness } from '../packages/mesh/src/handshake-witness.js'
import { createLinkHost } from '../packages/mesh/src/host.js'
import { WitnessDetector } from '../packages/mesh/src/witness/witness-detector.js'
import { WitnessLinks } from '../packages/mesh/src/witness/witness-links.js'
import { witnessesOf } from '../packages/mesh/src/witness/witnesses.js'
import type { WitnessedMember } from '../packages/mesh/src/witness/witness-options.js'
import type { WitnessAnswer, WitnessAsk } from './witness-protocol.js'

const quiet = { error () {}, warn () {}, info () {}, debug () {} }
const hosts: Libp2p[] = []
const nodes: Array<{ detector: WitnessDetector, links: WitnessLinks, downs: Record<string, number> }> = []

function reply (answer: WitnessAnswer): void {
  process.send?.(answer)
}

async function start (count: number): Promise<void> {
  const made = await Promise.all(Array.from({ length: count }, async () => await createLinkHost({ listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], witness: new HandshakeWitness(systemClock), allow: ['/ip4/127.0.0.1/ipcidr/32'] })))
  await Promise.all(made.map(async h => { await h.start() }))
  hosts.push(...made)
  reply({ type: 'started', nodes: made.map(h => ({ peerId: h.peerId.toString(), address: h.getMultiaddrs()[0].toString() })) })
}

async function link (table: Record<string, { gen: number, address: string }>, k: number): Promise<void> {
  const ids = Object.keys(table)
  const members = new Map<string, WitnessedMember>(ids.map(id => [id, { gen: table[id].gen, witnesses: witnessesOf(id, ids, k) }]))
  for (const host of hosts) {
    const self = host.peerId.toString()
    const downs: Record<string, number> = {}
    const named = ids.filter(id => members.get(id)?.witnesses.includes(self) === true)
    const detector: WitnessDetector = new WitnessDetector({
      self,
      clock: systemClock,
      members,
      links: [...new Set([...(members.get(self)?.witnesses ?? []), ...named])],
      // (it sends from its first beat, once started: the links exist by then)
      send: (peer, m) => { links.send(peer, m) },
      changed: (peer, liveness) => { if (liveness === 'down' && downs[peer] === undefined) downs[peer] = Date.now() },
      unlinked: (peer) => { links.close(peer) }
    })
    const links: WitnessLinks = new WitnessLinks({
      host,
      clock: systemClock,
      logger: quiet,
      addressesOf: (peer) => table[peer] === undefined ? undefined : [table[peer].address],
      receive: (from, m) => { detector.receive(from, m) },
      closed: (peer) => { detector.linkClosed(peer) },
      refused: (peer) => { detector.refused(peer) },
      // (a handshake may queue behind hundreds when a hundred nodes start at once)
      dialTimeoutMs: 10_000,
      redialMs: 1_000
    })
    await links.start()
    nodes.push({ detector, links, downs })
  }
  reply({ type: 'linked' })
}

process.on('message', (m: WitnessAsk) => {
  if (m.type === 'start') void start(m.count)
  else if (m.type === 'members') void link(m.members, m.witnesses)
  else if (m.type === 'go') {
    for (const n of nodes) n.detector.start()
    reply({ type: 'going' })
  } else if (m.type === 'state') reply({ type: 'state', leased: nodes.map(n => n.detector.holdsLease()), downs: nodes.map(n => n.downs) })
  else if (m.type === 'stop') {
    for (const n of nodes) n.detector.stop()
    void Promise.all(nodes.map(async n => { await n.links.stop() })).then(async () => await Promise.all(hosts.map(async h => { await h.stop() }))).finally(() => process.exit(0))
  }
})
// the parent went: nothing is left to answer
process.on('disconnect', () => process.exit(0))
reply({ type: 'ready' })
