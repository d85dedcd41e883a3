import { InvalidMessageError, REPLICA_BATCH, REPLICA_BATCH_BYTES, REPLICA_TIMEOUT_MS } from '@simplepool/core'
import { decodeReplicaPutAnswer, encodeReplicaPut } from '../protocol/replica-messages.js'
import type { ReplicaItem } from '../protocol/replica-messages.js'
import type { RuntimeTransport } from '../runtime-types.js'

/** What a successor made of one replica: kept (true), refused for the newer epoch it holds (a number), or not acknowledged (why). */
export type PutOutcome = true | number | Error

/** One worker's latest state queued for a node, and who waits for its answer. */
interface Queued {
  item: ReplicaItem
  waiters: Array<(outcome: PutOutcome) => void> | undefined
}

/** Settled once every outcome was handed to its waiters: a resolved promise's reaction is cheaper than `queueMicrotask`. */
const RESOLVED = Promise.resolve()

/**
 * Replica puts on their way to successors, gathered per node and pool while the turns of
 * one go of the run queue end, then sent as a few messages (`REPLICA_BATCH` workers or
 * `REPLICA_BATCH_BYTES` of state each). One worker put twice before they go is sent once,
 * with its later state: both waiters get that one's answer, which acknowledges the
 * earlier too. A node that answers nothing, or garbage, fails each of its items' puts.
 */
export class ReplicaOutbox {
  private readonly queued = new Map<string, Map<string, Map<string, Queued>>>()
  /** Per node, drops to cast once the puts queued before them went (a put queued and then dropped must not outlive its drop). */
  private readonly drops = new Map<string, unknown[]>()
  private flushing = false

  constructor (
    private readonly transport: Pick<RuntimeTransport, 'call' | 'cast'>,
    /** A put that was not acknowledged (counted as a replica missed). */
    private readonly missed: () => void
  ) {}

  /** Sends `item` of `pool` to `peer` with the next batch; resolves with what `peer` made of it (never rejects). */
  async put (peer: string, pool: string, item: ReplicaItem): Promise<PutOutcome> {
    return await new Promise(resolve => { this.queue(peer, pool, item, resolve) })
  }

  /** Sends `item` with the next batch, answer unread (a put that follows the ring: the next turn sends the state again). */
  send (peer: string, pool: string, item: ReplicaItem): void {
    this.queue(peer, pool, item, undefined)
  }

  /** Casts `payload` (a replica drop) to `peer` behind the puts queued for it so far. */
  drop (peer: string, payload: unknown): void {
    let list = this.drops.get(peer)
    if (list === undefined) this.drops.set(peer, list = [])
    list.push(payload)
    this.schedule()
  }

  private queue (peer: string, pool: string, item: ReplicaItem, waiter: ((o: PutOutcome) => void) | undefined): void {
    let pools = this.queued.get(peer)
    if (pools === undefined) this.queued.set(peer, pools = new Map())
    let items = pools.get(pool)
    if (items === undefined) pools.set(pool, items = new Map())
    const was = items.get(item.id)
    if (was === undefined) items.set(item.id, { item, waiters: waiter === undefined ? undefined : [waiter] })
    else if (item.epoch !== was.item.epoch) {
      // two copies of one worker (one left, one started): the older copy's puts are not
      // sent, and it is told a newer copy is there, as a successor would tell it
      const [older, newer] = item.epoch > was.item.epoch ? [was, { item, waiters: waiter === undefined ? undefined : [waiter] }] : [{ item, waiters: waiter === undefined ? undefined : [waiter] }, was]
      for (const w of older.waiters ?? []) w(newer.item.epoch)
      items.set(item.id, newer)
    } else {
      // the later state stands for the earlier: it holds every turn the earlier did
      if (item.seq > was.item.seq) was.item = item
      if (waiter !== undefined) (was.waiters ??= []).push(waiter)
    }
    this.schedule()
  }

  private schedule (): void {
    if (!this.flushing) {
      this.flushing = true
      void RESOLVED.then(() => { this.flush() })
    }
  }

  private flush (): void {
    this.flushing = false
    const queued = [...this.queued]
    this.queued.clear()
    for (const [peer, pools] of queued) {
      for (const [pool, items] of pools) {
        let batch: Queued[] = []
        let bytes = 0
        for (const q of items.values()) {
          batch.push(q)
          bytes += q.item.bytes.byteLength
          if (batch.length >= REPLICA_BATCH || bytes >= REPLICA_BATCH_BYTES) {
            this.sendBatch(peer, pool, batch)
            batch = []
            bytes = 0
          }
        }
        if (batch.length > 0) this.sendBatch(peer, pool, batch)
      }
    }
    // one stream per node, in order: each drop reaches it after the puts sent before it
    const drops = [...this.drops]
    this.drops.clear()
    for (const [peer, list] of drops) {
      for (let i = 0; i < list.length; i++) {
        try {
          this.transport.cast(peer, list[i])
        } catch (err) {
          // the node's queue is full: the rest wait for `retry`, ahead of drops queued since
          // (a drop names its put, so a put sent meanwhile outlives it). A node this one
          // cannot send to at all (stopped) holds nothing of it any more
          if ((err as Error).name === 'OverloadedError') this.drops.set(peer, [...list.slice(i), ...(this.drops.get(peer) ?? [])])
          break
        }
      }
    }
  }

  /** Sends the drops a full queue held back (see {@link flush}); the replicator's sweep calls it. */
  retry (): void {
    if (this.drops.size > 0) this.schedule()
  }

  private sendBatch (peer: string, pool: string, batch: Queued[]): void {
    const settle = (outcome: (i: number) => PutOutcome): void => {
      for (let i = 0; i < batch.length; i++) {
        const o = outcome(i)
        if (o !== true && typeof o !== 'number') this.missed()
        for (const w of batch[i].waiters ?? []) w(o)
      }
    }
    this.transport.call(peer, encodeReplicaPut(pool, batch.map(q => q.item)), { timeoutMs: REPLICA_TIMEOUT_MS }).then(
      (answer) => {
        const answers = decodeReplicaPutAnswer(answer, batch.length)
        settle(i => answers[i] === -1 ? new InvalidMessageError(`node ${peer} could not read the replica of ${pool}/${batch[i].item.id}`) : answers[i])
      },
      (err: Error) => { settle(() => err) }
    ).catch((err: Error) => {
      // an answer that does not decode: nothing of the batch was acknowledged
      settle(() => err)
    })
  }
}
