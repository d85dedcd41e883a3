/**
 * What a misbehaving member can do below the transport: open streams of the message
 * protocol to a peer and write any bytes on them, or open them and write nothing, for as
 * long as it runs. Child commands, for the tests that check the others hold up.
 */
import { MESSAGE_PROTOCOL } from '@simplepool/core'
import type { SimplePoolNode } from 'simplepool'

/** Streams this process opened and keeps open: held here so nothing closes them. */
const held: Array<{ abort: (err: Error) => void }> = []

interface RawStream {
  status: string
  send: (data: Uint8Array) => boolean
  abort: (err: Error) => void
  addEventListener: (type: 'close', listener: () => void, options?: { once?: boolean }) => void
}

async function open (node: SimplePoolNode, peer: string): Promise<RawStream> {
  return await node.mesh.streams().newStream(peer, MESSAGE_PROTOCOL, { signal: AbortSignal.timeout(5_000) }) as unknown as RawStream
}

export const rawStreamCommands = {
  /**
   * Opens a stream to `peer`, writes each of `chunks` on it, and answers whether the peer
   * closed it within `waitMs` (it should, for bytes it cannot read). The stream is dropped after.
   */
  rawStream: async (node: SimplePoolNode, a: Record<string, unknown>): Promise<{ closedByPeer: boolean }> => {
    const stream = await open(node, a.peer as string)
    const closed = new Promise<boolean>(resolve => {
      stream.addEventListener('close', () => { resolve(true) }, { once: true })
      setTimeout(() => { resolve(false) }, (a.waitMs as number | undefined) ?? 2_000)
    })
    for (const chunk of a.chunks as Uint8Array[]) stream.send(chunk)
    const closedByPeer = await closed
    if (stream.status === 'open') stream.abort(new Error('done'))
    return { closedByPeer }
  },
  /** Opens `n` streams to `peer`, writes nothing on them, and keeps them open; answers how many opened and why the rest did not. */
  holdStreams: async (node: SimplePoolNode, a: Record<string, unknown>): Promise<{ opened: number, refused: Record<string, number> }> => {
    let opened = 0
    const refused: Record<string, number> = {}
    for (let i = 0; i < (a.n as number); i++) {
      try {
        held.push(await open(node, a.peer as string))
        opened++
      } catch (err) {
        const name = (err as Error).name
        refused[name] = (refused[name] ?? 0) + 1
      }
    }
    return { opened, refused }
  },
  /** `n` calls of `msg` to worker `pool`/`id`, `inFlight` at a time: how many ended how (a reply, or an error's name). */
  callFlood: async (node: SimplePoolNode, a: Record<string, unknown>): Promise<Record<string, number>> => {
    const outcomes: Record<string, number> = {}
    let next = 0
    const one = async (): Promise<void> => {
      while (next++ < (a.n as number)) {
        let key = 'reply'
        try {
          await node.ref(a.pool as string, a.id as string).call(a.msg)
        } catch (err) {
          key = (err as Error).name
        }
        outcomes[key] = (outcomes[key] ?? 0) + 1
      }
    }
    await Promise.all(Array.from({ length: (a.inFlight as number | undefined) ?? 256 }, one))
    return outcomes
  },
  /** This process's memory, as `process.memoryUsage()` reads it. */
  memory: () => process.memoryUsage(),
  /** Closes the streams `holdStreams` opened. */
  dropStreams: (): number => {
    const n = held.length
    for (const s of held.splice(0)) s.abort(new Error('dropped'))
    return n
  }
}
