/**
 * libp2p's TCP transport with its writes coalesced: everything a connection sends in one
 * turn of the event loop leaves in one system call.
 *
 * Why: below a SimplePool frame, Yamux adds a header and Noise a length and a tag, and
 * `@libp2p/tcp` writes every piece with a `socket.write` of its own: about eight system
 * calls per frame sent, counted with strace on a node making remote calls. On loopback
 * each write also runs the receiving side's TCP stack, so writes were the largest item in
 * the caller's profile (17% of its time). Corking the socket for the rest of the turn
 * turns them into one `writev`.
 */
import { Socket } from 'node:net'
import { tcp } from '@libp2p/tcp'
import type { TCPOptions } from '@libp2p/tcp'

type Factory = ReturnType<typeof tcp>
type Transport = ReturnType<Factory>

/**
 * Corks the connection's socket on its first send of a turn and uncorks it before the turn
 * ends. Past half the socket's high-water mark the held bytes go at once: a corked socket
 * that reaches the mark answers `write` with false for bytes it has not even tried to
 * send, and libp2p's streams then waited for a drain on nearly every send (a flood of
 * small sends fell from 25,000 to 11,000 a second that way).
 */
export function coalesceWrites (maConn: unknown): void {
  const conn = maConn as { socket?: unknown, sendData?: (data: unknown) => unknown }
  const socket = conn.socket
  const sendData = conn.sendData
  // a libp2p whose connections look otherwise is left as it is: only slower
  if (!(socket instanceof Socket) || typeof sendData !== 'function') return
  let corked = false
  let scheduled = false
  const flush = (): void => {
    if (!corked) return
    corked = false
    socket.uncork()
  }
  const atTurnEnd = (): void => {
    scheduled = false
    flush()
  }
  conn.sendData = function (this: unknown, data: unknown): unknown {
    if (corked && socket.writableLength >= socket.writableHighWaterMark / 2) flush()
    if (!corked && !socket.destroyed) {
      corked = true
      socket.cork()
      if (!scheduled) {
        scheduled = true
        // nextTick: after the code that is sending now, before any I/O or timer
        process.nextTick(atTurnEnd)
      }
    }
    return sendData.call(this, data)
  }
}

/** An upgrader that coalesces the writes of every connection it upgrades. */
function coalescing<U extends object> (upgrader: U): U {
  return new Proxy(upgrader, {
    get (target, prop) {
      const value = Reflect.get(target, prop, target)
      if (typeof value !== 'function') return value
      if (prop === 'upgradeOutbound' || prop === 'upgradeInbound') {
        return (maConn: unknown, ...rest: unknown[]) => {
          coalesceWrites(maConn)
          return (value as (...a: unknown[]) => unknown).call(target, maConn, ...rest)
        }
      }
      return (value as (...a: unknown[]) => unknown).bind(target)
    }
  })
}

/** `tcp(options)`, whose connections coalesce their writes (see the top of this file). */
export function coalescedTcp (options?: TCPOptions): Factory {
  const factory = tcp(options)
  return (components) => {
    const transport = factory(components)
    return new Proxy(transport, {
      get (target, prop) {
        const value = Reflect.get(target, prop, target)
        if (prop === 'dial' && typeof value === 'function') {
          return async (ma: unknown, opts: { upgrader: object }) => await (value as (...a: unknown[]) => Promise<unknown>).call(target, ma, { ...opts, upgrader: coalescing(opts.upgrader) })
        }
        if (prop === 'createListener' && typeof value === 'function') {
          return (opts: { upgrader: object }) => (value as (...a: unknown[]) => unknown).call(target, { ...opts, upgrader: coalescing(opts.upgrader) })
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      }
    }) as Transport
  }
}
