import { expect } from 'chai'
import type { WorkerStore } from '@simplepool/core'

/** Two stores on one database (two nodes, or two processes), and how to drop it. */
export interface StoreUnderTest {
  a: WorkerStore
  b: WorkerStore
  /** Closes both and removes what the test made. */
  drop: () => Promise<void>
}

async function rejection (p: Promise<unknown>): Promise<Error & { data?: any }> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}

async function ids (store: WorkerStore, pool: string): Promise<string[]> {
  const out: string[] = []
  for await (const id of store.liveIds(pool)) out.push(id)
  return out.sort()
}

/**
 * What every store must do (see `WorkerStore`): the same tests for each adapter, against
 * its real database. `make` gives two stores on one fresh database or table.
 */
export function storeContract (make: () => Promise<StoreUnderTest>): void {
  let s: StoreUnderTest | undefined
  const get = async (): Promise<StoreUnderTest> => (s = await make())
  afterEach(async () => {
    await s?.drop()
    s = undefined
  })

  it('loads nothing for a worker never saved, and keeps what a save wrote: Maps, Dates, bytes and bigints too', async () => {
    const { a } = await get()
    expect(await a.load('room', 'r1', { epoch: 10 })).to.equal(undefined)
    const state = { n: 3, members: new Map([['ann', { joined: new Date(1_700_000_000_000) }]]), blob: new Uint8Array([1, 2, 3]), big: 2n ** 70n }
    await a.save('room', 'r1', state, { epoch: 10 })
    // the same activation saves again (write-through): its own epoch is not older
    state.n = 4
    await a.save('room', 'r1', state, { epoch: 10 })
    expect(await a.load('room', 'r1', { epoch: 11 })).to.deep.equal(state)
  })

  it('refuses a save, a load and a delete with an older epoch than the stored one (StaleWriteError, with what it proved), and changes nothing', async () => {
    const { a } = await get()
    await a.save('room', 'r', { n: 5 }, { epoch: 20 })
    const save = await rejection(a.save('room', 'r', { n: 99 }, { epoch: 19 }))
    expect(save.name).to.equal('StaleWriteError')
    expect(save.data).to.deep.equal({ pool: 'room', id: 'r', epoch: 19, stored: 20 })
    expect((await rejection(a.load('room', 'r', { epoch: 19 }))).name).to.equal('StaleWriteError')
    expect((await rejection(a.delete('room', 'r', { epoch: 19 }))).name).to.equal('StaleWriteError')
    expect(await a.load('room', 'r', { epoch: 20 })).to.deep.equal({ n: 5 })
  })

  it('fences on load: once a newer activation loaded, an older copy (on another node) can write nothing', async () => {
    const { a, b } = await get()
    await a.load('room', 'f', { epoch: 1 })
    await a.save('room', 'f', { n: 1 }, { epoch: 1 })
    // another node activates the worker while the views disagree
    expect(await b.load('room', 'f', { epoch: 2 })).to.deep.equal({ n: 1 })
    expect((await rejection(a.save('room', 'f', { n: 2 }, { epoch: 1 }))).name).to.equal('StaleWriteError')
    await b.save('room', 'f', { n: 2 }, { epoch: 2 })
    expect(await a.load('room', 'f', { epoch: 3 })).to.deep.equal({ n: 2 })
  })

  it('deletes the state but keeps the fence: an older copy cannot write the worker back', async () => {
    const { a } = await get()
    await a.save('room', 'd', { n: 1 }, { epoch: 5 })
    await a.delete('room', 'd', { epoch: 6 })
    expect(await ids(a, 'room')).to.deep.equal([])
    expect((await rejection(a.save('room', 'd', { n: 9 }, { epoch: 5 }))).name).to.equal('StaleWriteError')
    expect(await a.load('room', 'd', { epoch: 7 })).to.equal(undefined)
    // a worker never saved: nothing to delete, no conflict
    await a.delete('room', 'never', { epoch: 1 })
  })

  it('lists the ids that have state, per pool, across pages', async () => {
    const { a } = await get()
    const n = 2_345
    await Promise.all(Array.from({ length: n }, async (_, i) => { await a.save('many', `id-${String(i).padStart(5, '0')}`, { i }, { epoch: 1 }) }))
    await a.save('other', 'id-00001', { i: -1 }, { epoch: 1 })
    await a.load('many', 'loaded-only', { epoch: 1 })
    const listed = await ids(a, 'many')
    expect(listed).to.have.length(n)
    expect(listed[0]).to.equal('id-00000')
    expect(listed[n - 1]).to.equal(`id-${String(n - 1).padStart(5, '0')}`)
    expect(await ids(a, 'other')).to.deep.equal(['id-00001'])
    expect(await a.load('other', 'id-00001', { epoch: 2 })).to.deep.equal({ i: -1 })
  })

  it('answers each of many writes at once on its own: one refused does not fail the others', async () => {
    const { a } = await get()
    await a.save('room', 'held', { n: 1 }, { epoch: 50 })
    const writes = Array.from({ length: 200 }, async (_, i) => await a.save('room', i === 100 ? 'held' : `w${i}`, { i }, { epoch: 10 }).then(() => 'ok', (err: Error) => err.name))
    const outcomes = await Promise.all(writes)
    expect(outcomes.filter(o => o === 'ok')).to.have.length(199)
    expect(outcomes[100]).to.equal('StaleWriteError')
  })

  it('applies writes of one worker made in the same turn in the order they were made', async () => {
    const { a } = await get()
    const [loaded, , , refused] = await Promise.all([
      a.load('room', 'same', { epoch: 1 }),
      a.save('room', 'same', { n: 1 }, { epoch: 1 }),
      a.save('room', 'same', { n: 2 }, { epoch: 3 }),
      a.save('room', 'same', { n: 9 }, { epoch: 2 }).then(() => 'written', (err: Error) => err.name)
    ])
    expect(loaded).to.equal(undefined)
    expect(refused).to.equal('StaleWriteError')
    expect(await a.load('room', 'same', { epoch: 3 })).to.deep.equal({ n: 2 })
  })

  it('writes nothing for a call whose signal was aborted (AbortError), and names a bad epoch', async () => {
    const { a } = await get()
    const ctl = new AbortController()
    ctl.abort()
    expect((await rejection(a.save('room', 'x', { n: 1 }, { epoch: 1, signal: ctl.signal }))).name).to.equal('AbortError')
    expect(await ids(a, 'room')).to.deep.equal([])
    expect((await rejection(a.save('room', 'x', { n: 1 }, { epoch: -1 }))).name).to.equal('InvalidOptionError')
    expect((await rejection(a.load('room', 'x', { epoch: 1.5 }))).name).to.equal('InvalidOptionError')
  })

  it('writes what was queued before close, then closes', async () => {
    const { a, b } = await get()
    const writes = Array.from({ length: 300 }, async (_, i) => { await a.save('room', `q${i}`, { i }, { epoch: 1 }) })
    await Promise.all([a.close(), a.close()])
    await Promise.all(writes)
    expect(await ids(b, 'room')).to.have.length(300)
  })

  it('refuses every call once closed (StoreClosedError)', async () => {
    const { a } = await get()
    await a.save('room', 'c', { n: 1 }, { epoch: 1 })
    await a.close()
    expect((await rejection(a.load('room', 'c', { epoch: 2 }))).name).to.equal('StoreClosedError')
  })
}
