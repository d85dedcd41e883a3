/**
 * The foundation at work: three node processes on 127.0.0.1 form a cluster over libp2p,
 * agree on who owns which worker id, talk over the direct transport, and notice when one
 * of them is killed. Run with `npm run demo`.
 */
import { startCluster } from '@simplepool/testing'

const short = (peerId: string): string => `…${peerId.slice(-6)}`
const t0 = performance.now()
const since = (): string => `${(performance.now() - t0).toFixed(0).padStart(5)} ms`

console.log('starting 3 node processes on 127.0.0.1 …')
const cluster = await startCluster({ nodes: 3, targets: { 'chat-room': 100 } })
try {
  const [a, b, c] = cluster.nodes
  console.log(`${since()}  membership agreed: ${cluster.nodes.map(n => `${n.name} ${short(n.peerId)}`).join(', ')}`)

  const owners = await Promise.all(cluster.nodes.map(async n => n.request<string[]>('owners', { pool: 'chat-room', n: 10_000, prefix: 'room-' })))
  const agree = owners.every(o => o.join() === owners[0].join())
  const share = new Map<string, number>()
  for (const o of owners[0]) share.set(o, (share.get(o) ?? 0) + 1)
  console.log(`${since()}  owners of 10,000 chat rooms: every node agrees: ${String(agree)}`)
  for (const n of cluster.nodes) console.log(`           ${n.name} owns ${share.get(n.peerId) ?? 0}`)

  const echo = await a.request<{ value: unknown }>('call', { peer: b.peerId, payload: { op: 'echo', value: 'hello from node-1' } })
  console.log(`${since()}  node-1 called node-2 and got back: ${JSON.stringify(echo.value)}`)
  const many = await a.request<{ outcomes: Record<string, number>, ms: number }>('callMany', { peer: c.peerId, n: 20_000, batch: 1_000, payload: { op: 'echo', value: 1 } })
  console.log(`${since()}  20,000 calls node-1 -> node-3: ${JSON.stringify(many.outcomes)} in ${many.ms.toFixed(0)} ms`)

  const killedAt = performance.now()
  c.kill('SIGKILL')
  const down = await a.waitForEvent(e => e.name === 'member:down' && e.detail.peerId === c.peerId, 5_000)
  console.log(`${since()}  node-3 killed (SIGKILL); node-1 marked it down after ${(down.at - (performance.timeOrigin + killedAt)).toFixed(0)} ms`)
  await cluster.waitForConvergence({ nodes: [a, b] })
  const after = await a.request<string[]>('owners', { pool: 'chat-room', n: 10_000, prefix: 'room-' })
  console.log(`${since()}  its rooms now belong to the other two: ${after.filter(o => o === a.peerId).length} + ${after.filter(o => o === b.peerId).length}`)
} finally {
  await cluster.stop()
}
console.log(`${since()}  all processes stopped`)
