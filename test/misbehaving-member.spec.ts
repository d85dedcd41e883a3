import { expect } from 'chai'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encode } from 'cbor-x'
import { loadKeyFile } from 'simplepool'
import type { AccessRules } from 'simplepool'
import { Cluster } from '@simplepool/testing'
import type { NodeHandle } from '@simplepool/testing'

type Outcome = { ok: true, value: unknown } | { ok: false, error: { name: string, message: string } }

/** A frame as the transport reads one: a 4-byte big-endian length, then the body. */
function frame (body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length)
  new DataView(out.buffer).setUint32(0, body.length)
  out.set(body, 4)
  return out
}

/**
 * A member that holds the cluster key but no rights, misbehaving below and above the
 * transport, across real processes: two workers host `counter` under access rules; the
 * intruder runs with none of its own, so nothing on its side holds it back. Whatever it
 * does, the workers answer each other with exact counters, stay online, and name it.
 */
describe('a misbehaving member, across processes', function () {
  this.timeout(120_000)
  let dir: string
  let cluster: Cluster
  let w1: NodeHandle
  let w2: NodeHandle
  let intruder: NodeHandle
  let id: string
  let expected = 0

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'simplepool-intruder-'))
    const peers = await Promise.all(['w1', 'w2'].map(async n => (await loadKeyFile(join(dir, `${n}.key`))).peerId))
    const rules: AccessRules = { roles: { workers: peers }, pools: { counter: { host: ['workers'] } }, operations: { read: ['workers'] } }
    cluster = new Cluster({ pools: ['counter'] })
    w1 = await cluster.addNode({ name: 'w1', keyFile: join(dir, 'w1.key'), access: rules })
    w2 = await cluster.addNode({ name: 'w2', keyFile: join(dir, 'w2.key'), access: rules })
    intruder = await cluster.addNode({ name: 'intruder', targets: { counter: 0 } })
    await cluster.waitForConvergence()
    const owners = await w1.request<string[]>('owners', { pool: 'counter', n: 100, prefix: 'kept-' })
    id = `kept-${owners.indexOf(w2.peerId)}`
  })

  after(async () => {
    await cluster?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  /** w1 counts once more on w2's worker, and reads back exactly what it counted. */
  async function stillExact (): Promise<void> {
    expect(await w1.request<Outcome>('call', { pool: 'counter', id, msg: 'inc' })).to.deep.equal({ ok: true, value: ++expected })
  }

  it('closes a stream that announces an oversized frame, or sends bytes that are no frame of envelopes, and serves on', async () => {
    await stillExact()
    const garbage: Array<[string, Uint8Array[]]> = [
      ['a 4 GiB frame announced', [new Uint8Array([0xff, 0xff, 0xff, 0xff])]],
      ['bytes that are no cbor', [frame(new Uint8Array([0xff, 0x00, 0x1c, 0x9f, 0x41]))]],
      ['cbor that is no array of envelopes', [frame(encode('hello'))]],
      ['an envelope of an unknown version', [frame(encode([[9, 1, 'x']]))]],
      ['an empty frame', [new Uint8Array([0, 0, 0, 0])]]
    ]
    for (const [what, chunks] of garbage) {
      expect(await intruder.request('rawStream', { peer: w2.peerId, chunks }), what).to.deep.equal({ closedByPeer: true })
      await stillExact()
    }
    const metrics = await w2.request<string>('metrics')
    expect(Number(/simplepool_transport_invalid_frames_total (\d+)/.exec(metrics)?.[1])).to.be.at.least(garbage.length)
    expect(w2.logs.some(l => l.includes(`closing stream from ${intruder.peerId}`)), 'the log names the peer').to.equal(true)
  })

  it('holds up under streams opened without end: libp2p refuses those past its limit, memory stays bounded', async () => {
    const before = await w2.request<{ heapUsed: number }>('memory')
    const held = await intruder.request<{ opened: number, refused: Record<string, number> }>('holdStreams', { peer: w2.peerId, n: 1_500 }, 60_000)
    expect(held.opened).to.be.at.most(1_024)
    expect(held.opened + Object.values(held.refused).reduce((a, b) => a + b, 0)).to.equal(1_500)
    await stillExact()
    const after = await w2.request<{ heapUsed: number }>('memory')
    expect(after.heapUsed - before.heapUsed, 'heap growth, bytes').to.be.below(96 * 1024 * 1024)
    await intruder.request('dropStreams')
    await stillExact()
  })

  it('floods calls and casts it has no right to: each refused before it reaches a worker, counted, and the node stays online', async () => {
    const casts = await intruder.request<{ sent: number }>('cast', { pool: 'counter', id, msg: 'inc', n: 50_000 }, 60_000)
    expect(casts.sent).to.equal(50_000)
    const calls = await intruder.request<Record<string, number>>('callFlood', { pool: 'counter', id, msg: 'inc', n: 20_000 }, 60_000)
    expect(calls).to.deep.equal({ ForbiddenError: 20_000 })
    await stillExact()
    const metrics = await w2.request<string>('metrics')
    const denied = (op: string): number => Number(new RegExp(`simplepool_access_denied_total\\{peer="${intruder.peerId}",pool="counter",op="${op}"\\} (\\d+)`).exec(metrics)?.[1])
    expect(denied('cast')).to.equal(50_000)
    expect(denied('call')).to.equal(20_000)
    const health = await w1.request<{ status: string }>('healthOf', { peer: w2.peerId })
    expect(health.status).to.equal('online')
    const events = w2.events.filter(e => e.name === 'access:deny')
    expect(events.length, 'announced, not once per refusal').to.be.within(1, 60)
  })
})
