/**
 * One process of the links scenario (links.bench.ts forks it): it starts the bare hosts it
 * is told to, and on `go` each of them dials the peers it links with, all at once. It
 * answers over IPC; the hosts stop when told to, or when the parent goes.
 */
import '@simplepool/core/polyfill'
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from '@libp2p/interface'
import { HandshakeWitness } from '../packages/mesh/src/handshake-witness.js'
import { createHost, createLinkHost, stopHost } from '../packages/mesh/src/host.js'
import type { Host, HostInit } from '../packages/mesh/src/host.js'
import { systemClock } from '@simplepool/core'
import type { LinksAnswer, LinksAsk } from './links-protocol.js'

const hosts: Array<Libp2p | Host> = []
let kind: 'link' | 'mesh' = 'link'

function reply (answer: LinksAnswer): void {
  process.send?.(answer)
}

async function start (count: number, hostKind: 'link' | 'mesh'): Promise<void> {
  kind = hostKind
  const init: HostInit = { listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], witness: new HandshakeWitness(systemClock), allow: ['/ip4/127.0.0.1/ipcidr/32'], heartbeatMs: 500 }
  const made = await Promise.all(Array.from({ length: count }, async () => kind === 'mesh' ? await createHost(init) : await createLinkHost(init)))
  await Promise.all(made.map(async h => { await h.start() }))
  hosts.push(...made)
  reply({ type: 'started', hosts: made.map(h => ({ peerId: h.peerId.toString(), address: h.getMultiaddrs()[0].toString() })) })
}

/** Each host dials the peers `dials` names for it (by peer id), three tries each; the time until the last dial ended, and the failures by error name. */
async function go (dials: Record<string, string[]>, addresses: Record<string, string>, timeoutMs: number): Promise<void> {
  const t0 = performance.now()
  const errors: Record<string, number> = {}
  let failed = 0
  await Promise.all(hosts.map(async (h) => {
    await Promise.all((dials[h.peerId.toString()] ?? []).map(async (peer) => {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await h.dial(multiaddr(addresses[peer]), { signal: AbortSignal.timeout(timeoutMs) })
          return
        } catch (err) {
          const name = (err as Error).name
          errors[name] = (errors[name] ?? 0) + 1
        }
      }
      failed++
    }))
  }))
  reply({ type: 'dialed', ms: performance.now() - t0, failed, errors })
}

process.on('message', (m: LinksAsk) => {
  if (m.type === 'start') void start(m.count, m.kind)
  else if (m.type === 'go') void go(m.dials, m.addresses, m.timeoutMs)
  else if (m.type === 'count') reply({ type: 'count', connections: hosts.map(h => h.getConnections().length) })
  else if (m.type === 'stop') void Promise.all(hosts.map(async h => kind === 'mesh' ? await stopHost(h as Host) : await h.stop())).finally(() => process.exit(0))
})
// the parent went: nothing is left to answer
process.on('disconnect', () => process.exit(0))
reply({ type: 'ready' })
