import { expect } from 'chai'
import { StaleWriteError } from '@simplepool/core'
import type { StoreCallOptions, WorkerStore } from '@simplepool/core'
import { definePool, withStore } from '../../src/pool.js'
import type { WorkerFailDetail } from '../../src/events.js'
import { rejection, useCluster } from '../fixtures.js'

interface Counter { n: number }

/** Rows in a map, fenced by epoch as a database's conditional update would (the adapters' contract; they are tested in @simplepool/store). */
class RowStore implements WorkerStore {
  readonly rows = new Map<string, { epoch: number, state: unknown }>()
  readonly log: string[] = []

  private stale (key: string, epoch: number): void {
    const row = this.rows.get(key)
    const [pool, id] = key.split('/')
    if (row !== undefined && row.epoch > epoch) throw new StaleWriteError(`${key}: epoch ${epoch} is older than the stored ${row.epoch}`, { pool, id, epoch, stored: row.epoch })
  }

  async load (pool: string, id: string, { epoch }: StoreCallOptions): Promise<unknown> {
    const key = `${pool}/${id}`
    this.stale(key, epoch)
    const state = this.rows.get(key)?.state
    this.rows.set(key, { epoch, state })
    this.log.push(`load ${key}`)
    return state === undefined ? undefined : structuredClone(state)
  }

  async save (pool: string, id: string, state: unknown, { epoch }: StoreCallOptions): Promise<void> {
    const key = `${pool}/${id}`
    this.stale(key, epoch)
    this.rows.set(key, { epoch, state: structuredClone(state) })
    this.log.push(`save ${key} ${JSON.stringify(state)}`)
  }

  async delete (pool: string, id: string, { epoch }: StoreCallOptions): Promise<void> {
    this.stale(`${pool}/${id}`, epoch)
    this.rows.delete(`${pool}/${id}`)
  }

  async * liveIds (pool: string): AsyncIterable<string> {
    for (const [key, row] of this.rows) if (key.startsWith(`${pool}/`) && row.state !== undefined) yield key.slice(pool.length + 1)
  }

  async close (): Promise<void> {}
}

describe('A pool with a store', () => {
  const t = useCluster()

  function pool (store: WorkerStore, extra: Record<string, unknown> = {}): ReturnType<typeof definePool<Counter, 'inc' | 'get', number>> {
    return definePool<Counter, 'inc' | 'get', number>({
      name: 'stored',
      store,
      init: () => ({ n: 0 }),
      handle: (s, m) => m === 'inc' ? ++s.n : s.n,
      ...extra
    })
  }

  it('loads through the store with its epoch (raising the row\'s), saves there when it passivates, and lists the ids saved', async () => {
    const store = new RowStore()
    const def = pool(store, { snapshot: (s: Counter) => ({ v: s.n }), restore: (v: any) => ({ n: v.v }) })
    const rt = t.cluster.add('A', { pools: [def] })
    const ref = rt.ref<'inc' | 'get', number>('stored', 'a')
    await ref.call('inc')
    const epoch = (await rt.where('stored', 'a'))?.epoch as number
    expect(store.rows.get('stored/a')?.epoch).to.equal(epoch)
    expect(await rt.stopWorker('stored', 'a')).to.equal(true)
    expect(store.rows.get('stored/a')).to.deep.equal({ epoch, state: { v: 1 } })
    expect(await ref.call('inc')).to.equal(2)
    const ids: string[] = []
    const liveIds = withStore(def).liveIds as NonNullable<typeof def.liveIds>
    for await (const id of liveIds(new AbortController().signal)) ids.push(id)
    expect(ids).to.deep.equal(['a'])
  })

  it('writes every turn through before it answers, with writeThrough', async () => {
    const store = new RowStore()
    const rt = t.cluster.add('A', { pools: [pool(store, { writeThrough: true })] })
    const ref = rt.ref<'inc' | 'get', number>('stored', 'w')
    expect(await ref.call('inc')).to.equal(1)
    expect(store.rows.get('stored/w')?.state).to.deep.equal({ n: 1 })
    ref.cast('inc')
    // the cast's effect is in the store before the next turn answers
    expect(await ref.call('get')).to.equal(2)
    expect(store.log.filter(l => l.startsWith('save'))).to.deep.equal(['save stored/w {"n":1}', 'save stored/w {"n":2}', 'save stored/w {"n":2}'])
  })

  it('drops a copy whose write the store refused as stale; its call and waiting calls get StaleWriteError, and it is counted', async () => {
    const store = new RowStore()
    const rt = t.cluster.add('A', { pools: [pool(store, { writeThrough: true })] })
    const failed: WorkerFailDetail[] = []
    rt.events.addEventListener('worker:fail', (e) => { failed.push(e.detail) })
    const ref = rt.ref<'inc' | 'get', number>('stored', 's')
    await ref.call('inc')
    const epoch = (await rt.where('stored', 's'))?.epoch as number
    // a newer copy elsewhere loaded the worker: its epoch holds the row now
    await store.load('stored', 's', { epoch: epoch + 1 })
    await store.save('stored', 's', { n: 7 }, { epoch: epoch + 1 })
    const first = rejection(ref.call('inc'))
    const behind = rejection(ref.call('get'))
    expect((await first).name).to.equal('StaleWriteError')
    expect((await behind).name).to.equal('StaleWriteError')
    expect(await rt.alive('stored', 's')).to.equal(false)
    expect(store.rows.get('stored/s')?.state).to.deep.equal({ n: 7 })
    expect(failed.map(f => f.during)).to.deep.equal(['save'])
    const counters = rt.poolViews().find(p => p.name === 'stored')?.counters
    expect(counters).to.deep.include({ staleWrites: 1, fenced: 1 })
  })

  it('drops a copy whose handler met a stale write of its own, and one whose save on passivation was refused', async () => {
    const store = new RowStore()
    const rt = t.cluster.add('A', {
      pools: [pool(store, {
        handle: async (s: Counter, m: 'inc' | 'get', ctx: { id: string, epoch: number }) => {
          if (m === 'get') return s.n
          await store.save('stored', ctx.id, { n: s.n + 1 }, { epoch: ctx.epoch })
          return ++s.n
        }
      })]
    })
    const ref = rt.ref<'inc' | 'get', number>('stored', 'h')
    await ref.call('inc')
    const epoch = (await rt.where('stored', 'h'))?.epoch as number
    await store.load('stored', 'h', { epoch: epoch + 1 })
    expect((await rejection(ref.call('inc'))).name).to.equal('StaleWriteError')
    expect(await rt.alive('stored', 'h')).to.equal(false)

    const other = rt.ref<'inc' | 'get', number>('stored', 'p')
    await other.call('get')
    const pEpoch = (await rt.where('stored', 'p'))?.epoch as number
    await store.load('stored', 'p', { epoch: pEpoch + 1 })
    expect((await rejection(rt.stopWorker('stored', 'p'))).name).to.equal('StaleWriteError')
    expect(await rt.alive('stored', 'p')).to.equal(false)
    expect(rt.poolViews().find(p => p.name === 'stored')?.counters).to.deep.include({ staleWrites: 2 })
  })

  it('keeps a worker live when a save on passivation fails for another reason, and drops one whose write-through failed', async () => {
    let down = false
    const store = new RowStore()
    const flaky: WorkerStore = { ...store, load: store.load.bind(store), liveIds: store.liveIds.bind(store), delete: store.delete.bind(store), close: store.close.bind(store), save: async (...args) => { if (down) throw new Error('the database is down'); await store.save(...args) } }
    const rt = t.cluster.add('A', { pools: [pool(flaky), { ...pool(flaky, { writeThrough: true }), name: 'through' }] })
    await rt.ref('stored', 'k').call('inc')
    await rt.ref('through', 'k').call('inc')
    down = true
    expect((await rejection(rt.stopWorker('stored', 'k'))).message).to.equal('the database is down')
    expect(await rt.alive('stored', 'k')).to.equal(true)
    expect((await rejection(rt.ref('through', 'k').call('inc'))).message).to.equal('the database is down')
    expect(await rt.alive('through', 'k')).to.equal(false)
    down = false
    // what the store holds comes back: the increment that failed was never acknowledged
    expect(await rt.ref('through', 'k').call('get')).to.equal(1)
  })

  it('keeps the rows of a pool spread into another of another name under that name', async () => {
    const store = new RowStore()
    const rt = t.cluster.add('A', { pools: [{ ...pool(store, { writeThrough: true }), name: 'renamed' }] })
    await rt.ref('renamed', 'r').call('inc')
    expect([...store.rows.keys()]).to.deep.equal(['renamed/r'])
  })

  it('takes a StaleWriteError from a worker it called for that worker\'s: the caller stays, with its state', async () => {
    const store = new RowStore()
    const callee = pool(store, { writeThrough: true })
    const caller = definePool<Counter, 'inc' | 'get' | 'ask', number>({
      name: 'caller',
      init: () => ({ n: 0 }),
      handle: async (s, m, ctx) => {
        if (m === 'ask') await ctx.ref('stored', 'x').call('inc')
        return m === 'get' ? s.n : ++s.n
      }
    })
    const rt = t.cluster.add('A', { pools: [callee, caller] })
    await rt.ref('caller', 'c').call('inc')
    await rt.ref('stored', 'x').call('inc')
    const epoch = (await rt.where('stored', 'x'))?.epoch as number
    await store.load('stored', 'x', { epoch: epoch + 1 })
    expect((await rejection(rt.ref('caller', 'c').call('ask'))).name).to.equal('StaleWriteError')
    expect(await rt.ref('caller', 'c').call('get')).to.equal(1)
    expect(rt.poolViews().find(p => p.name === 'caller')?.counters).to.deep.include({ staleWrites: 0, fenced: 0 })
  })

  it('drops a copy whose save threw at once (a synchronous save) once, and it writes no more', async () => {
    let refuse = false
    let saves = 0
    const rt = t.cluster.add('A', {
      pools: [definePool<Counter, 'inc' | 'get', number>({
        name: 'sync-save',
        writeThrough: true,
        init: () => ({ n: 0 }),
        handle: (s, m) => m === 'inc' ? ++s.n : s.n,
        save: () => {
          saves++
          if (refuse) throw new Error('disk full')
        }
      })]
    })
    await rt.ref('sync-save', 's').call('inc')
    refuse = true
    expect((await rejection(rt.ref('sync-save', 's').call('inc'))).message).to.equal('disk full')
    expect(await rt.alive('sync-save', 's')).to.equal(false)
    const counted = saves
    t.clock.advance(5_000)
    await new Promise(resolve => setImmediate(resolve))
    expect(saves).to.equal(counted)
    expect(rt.poolViews().find(p => p.name === 'sync-save')?.counters.failures).to.equal(1)
  })

  it('names a bad store and a writeThrough with nowhere to write', () => {
    expect(() => definePool({ name: 'x', init: () => 0, handle: () => 0, store: {} as unknown as WorkerStore })).to.throw(/store must have load, save, delete, liveIds, close/)
    expect(() => definePool({ name: 'x', init: () => 0, handle: () => 0, writeThrough: true })).to.throw(/writeThrough needs save or store/)
  })
})
