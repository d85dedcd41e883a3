import { ENVELOPE_VERSION, MESSAGE_PROTOCOL, isServing, toWireError } from '@simplepool/core'
import { encode } from 'cbor-x'
import { Kind } from '@simplepool/transport'
import type { TestNode } from './test-node.js'
import { benchCommands } from './bench-commands.js'

type Args = Record<string, unknown>
type Command = (node: TestNode, args: Args) => unknown

let castsReceived = 0
let lastCast: unknown

/**
 * What a test node does with calls: a small fixed repertoire that lets tests make a call
 * succeed, fail with a named error, take its time, or never answer.
 */
function onCall (payload: unknown): unknown {
  const p = payload as { op?: string, value?: unknown, ms?: number, name?: string, message?: string }
  switch (p?.op) {
    case 'echo': return p.value
    case 'sleep': return new Promise(resolve => setTimeout(() => { resolve(p.value) }, p.ms ?? 0))
    case 'hang': return new Promise(() => {})
    case 'fail': {
      const err = new Error(p.message ?? 'failed')
      err.name = p.name ?? 'Error'
      throw err
    }
    default: return payload
  }
}

function onCast (payload: unknown): void {
  castsReceived++
  lastCast = payload
}

/** Builds the frame bytes of a raw test: each is wrong in exactly one way. */
function rawFrame (kind: string): Uint8Array {
  const withHeader = (body: Uint8Array): Uint8Array => {
    const out = Buffer.alloc(4 + body.byteLength)
    out.writeUInt32BE(body.byteLength, 0)
    out.set(body, 4)
    return out
  }
  switch (kind) {
    case 'oversize': {
      // announces 64 MiB; the receiver must refuse it from the header alone
      const out = Buffer.alloc(4 + 16)
      out.writeUInt32BE(64 * 1024 * 1024, 0)
      return out
    }
    case 'garbage': return withHeader(Buffer.from([0xff, 0xfe, 0x1c, 0x00, 0x9f, 0xff, 0xff]))
    case 'not-array': return withHeader(encode({ hello: 'world' }))
    case 'bad-version': return withHeader(encode([[99, Kind.Cast, 'x']]))
    case 'bad-kind': return withHeader(encode([[ENVELOPE_VERSION, 42, 'x']]))
    case 'good-cast': return withHeader(encode([[ENVELOPE_VERSION, Kind.Cast, { op: 'raw' }]]))
    default: throw new Error(`unknown raw frame kind ${kind}`)
  }
}

/** The requests a harness child answers. */
export const commands: Record<string, Command> = {
  ...benchCommands,
  install: (node) => {
    node.transport.setHandlers({ onCall, onCast })
    return true
  },
  info: (node) => ({ peerId: node.mesh.peerId, addresses: node.mesh.addresses, pid: process.pid }),
  snapshot: (node) => {
    const s = node.mesh.snapshot()
    return { version: s.version, members: s.members.map(m => ({ peerId: m.peerId, status: m.status, liveness: m.liveness, pools: m.pools })) }
  },
  /** Peer ids this node sees serving (up and not down), sorted. */
  serving: (node) => node.mesh.snapshot().members.filter(m => isServing(m)).map(m => m.peerId),
  owners: (node, a) => {
    const placement = node.currentPlacement()
    const pool = a.pool as string
    const ids = a.ids as string[] | undefined
    const n = a.n as number | undefined
    const prefix = (a.prefix as string | undefined) ?? 'id-'
    const out: Array<string | null> = []
    if (ids != null) for (const id of ids) out.push(placement.ownerOf(pool, id) ?? null)
    else for (let i = 0; i < (n ?? 0); i++) out.push(placement.ownerOf(pool, prefix + i) ?? null)
    return out
  },
  setTargets: (node, a) => { node.mesh.setTargets(a.targets as Record<string, number>); return true },
  call: async (node, a) => {
    try {
      return { ok: true, value: await node.transport.call(a.peer as string, a.payload, { timeoutMs: a.timeoutMs as number | undefined }) }
    } catch (err) {
      return { ok: false, error: toWireError(err) }
    }
  },
  /** Starts `n` calls at once and reports how each ended, by error name. */
  callMany: async (node, a) => {
    const n = a.n as number
    const outcomes: Record<string, number> = {}
    const started = performance.now()
    // with `batch`, that many calls per turn of the event loop, so queues flush in between
    const batch = (a.batch as number | undefined) ?? n
    const calls: Array<Promise<unknown>> = []
    for (let i = 0; i < n; i++) {
      if (i > 0 && i % batch === 0) await new Promise(resolve => setImmediate(resolve))
      calls.push(node.transport.call(a.peer as string, a.payload, { timeoutMs: a.timeoutMs as number | undefined }))
    }
    const settled = await Promise.allSettled(calls)
    for (const s of settled) {
      const k = s.status === 'fulfilled' ? 'ok' : (s.reason as Error).name
      outcomes[k] = (outcomes[k] ?? 0) + 1
    }
    return { outcomes, ms: performance.now() - started }
  },
  cast: (node, a) => {
    const n = (a.n as number | undefined) ?? 1
    let sent = 0
    const errors: Record<string, number> = {}
    for (let i = 0; i < n; i++) {
      try {
        node.transport.cast(a.peer as string, a.payload)
        sent++
      } catch (err) {
        const k = (err as Error).name
        errors[k] = (errors[k] ?? 0) + 1
      }
    }
    return { sent, errors }
  },
  castsReceived: () => ({ count: castsReceived, last: lastCast }),
  stats: (node) => ({ ...node.transport.stats, pending: node.transport.pendingCalls() }),
  /**
   * Opens a stream of the message protocol to a peer, writes one malformed (or good) frame,
   * and reports whether the peer closed the stream within `waitMs`.
   */
  raw: async (node, a) => {
    const stream = await node.mesh.newStream(a.peer as string, MESSAGE_PROTOCOL, { signal: AbortSignal.timeout(3_000) })
    const closed = new Promise<string>((resolve) => {
      stream.addEventListener('close', (evt) => { resolve(evt.error != null ? `${evt.error.name}` : 'closed') })
    })
    stream.send(rawFrame(a.kind as string))
    const waitMs = (a.waitMs as number | undefined) ?? 2_000
    const result = await Promise.race([closed, new Promise<string>(resolve => setTimeout(() => { resolve('open') }, waitMs))])
    if (result === 'open') await stream.close().catch(() => {})
    return { result }
  },
  stop: async (node) => {
    await node.stop()
    setTimeout(() => process.exit(0), 10)
    return true
  }
}
