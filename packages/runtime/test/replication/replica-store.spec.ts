import { expect } from 'chai'
import { ReplicaStore } from '../../src/replication/replica-store.js'

const EPOCH = 1_809_639_044_890_634

function item (id: string, epoch: number, seq: number, bytes: number[] = [1, 2, 3]): { id: string, epoch: number, seq: number, bytes: Uint8Array } {
  return { id, epoch, seq, bytes: new Uint8Array(bytes) }
}

describe('ReplicaStore', () => {
  it('keeps the latest put of each worker: a higher epoch, or in the same epoch a higher put count', () => {
    const s = new ReplicaStore()
    expect(s.put('p', item('a', EPOCH, 1, [1]), undefined)).to.equal(true)
    expect(s.put('p', item('a', EPOCH, 3, [3]), undefined)).to.equal(true)
    // an older put of the same epoch arrives late: had already, nothing changes
    expect(s.put('p', item('a', EPOCH, 2, [2]), undefined)).to.equal(true)
    expect([...(s.get('p', 'a')?.bytes ?? [])]).to.deep.equal([3])
    // a newer epoch (the worker started again elsewhere) wins whatever its count
    expect(s.put('p', item('a', EPOCH + 5, 1, [9]), undefined)).to.equal(true)
    expect(s.get('p', 'a')).to.deep.include({ epoch: EPOCH + 5, seq: 1 })
    // and an older epoch is refused with the newer one kept
    expect(s.put('p', item('a', EPOCH, 4, [4]), undefined)).to.equal(EPOCH + 5)
    expect([...(s.get('p', 'a')?.bytes ?? [])]).to.deep.equal([9])
  })

  it('refuses a put older than the copy live on this node, and takes one of that very copy as had', () => {
    const s = new ReplicaStore()
    expect(s.put('p', item('a', EPOCH, 1), EPOCH + 1)).to.equal(EPOCH + 1)
    expect(s.put('p', item('a', EPOCH + 1, 1), EPOCH + 1)).to.equal(true)
    expect(s.get('p', 'a')).to.equal(undefined)
    // a newer copy's put is kept: the live one here is being handed to it
    expect(s.put('p', item('a', EPOCH + 2, 1), EPOCH + 1)).to.equal(true)
    expect(s.get('p', 'a')?.epoch).to.equal(EPOCH + 2)
  })

  it('drops a replica unless it is newer than the put a drop names, and counts what it keeps', () => {
    const s = new ReplicaStore()
    s.put('p', item('a', EPOCH, 5, [1, 2, 3, 4]), undefined)
    s.put('p', item('b', EPOCH, 1, [1]), undefined)
    s.put('q', item('a', EPOCH, 1, [1, 2]), undefined)
    expect(s.figures).to.deep.equal({ replicas: 3, bytes: 7 })
    // put again since the drop was decided (a ring that named this node again): it stays
    expect(s.drop('p', 'a', EPOCH, 4)).to.equal(false)
    expect(s.drop('p', 'a', EPOCH - 1)).to.equal(false)
    expect(s.drop('p', 'a', EPOCH, 5)).to.equal(true)
    expect(s.drop('p', 'a')).to.equal(false)
    expect(s.figures).to.deep.equal({ replicas: 2, bytes: 3 })
    expect([...s.idsOf('p')]).to.deep.equal(['b'])
    expect(s.drop('p', 'b')).to.equal(true)
    expect([...s.poolNames()]).to.deep.equal(['q'])
  })

  it('keeps epochs up to 2^53 and put counts up to 2^48 exactly, and refuses what does not fit as malformed', () => {
    const s = new ReplicaStore()
    const big = Number.MAX_SAFE_INTEGER
    expect(s.put('p', item('a', big, 2 ** 48 - 1, [0, 255, 128]), undefined)).to.equal(true)
    const r = s.get('p', 'a')
    expect(r).to.deep.include({ epoch: big, seq: 2 ** 48 - 1 })
    expect([...(r?.bytes ?? [])]).to.deep.equal([0, 255, 128])
    for (const [epoch, seq] of [[-1, 1], [1.5, 1], [EPOCH, -1], [EPOCH, 2 ** 48], [2 ** 53, 1]]) {
      expect(s.put('p', item('b', epoch, seq), undefined), `epoch ${epoch} seq ${seq}`).to.equal(-1)
    }
    expect(s.figures.replicas).to.equal(1)
  })

  it('copies the bytes it keeps: the frame they came in may be reused', () => {
    const s = new ReplicaStore()
    const frame = new Uint8Array([7, 7, 1, 2, 3, 7])
    s.put('p', { id: 'a', epoch: EPOCH, seq: 1, bytes: frame.subarray(2, 5) }, undefined)
    frame.fill(0)
    expect([...(s.get('p', 'a')?.bytes ?? [])]).to.deep.equal([1, 2, 3])
  })
})
