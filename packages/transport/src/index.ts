/**
 * SimplePool's direct transport: casts and calls between peers, batched into
 * length-prefixed cbor-x frames on one long-lived libp2p stream per pair of peers.
 * Bounded queues, named errors that cross the wire, call deadlines in one queue watched by one timer.
 *
 * @example
 * ```ts
 * import { Transport } from '@simplepool/transport'
 * const transport = new Transport({
 *   handle: async (p, h) => mesh.libp2p.handle(p, (stream, conn) => { h(stream, conn.remotePeer.toString()) }),
 *   unhandle: async (p) => mesh.libp2p.unhandle(p),
 *   newStream: async (peer, p, o) => mesh.newStream(peer, p, o)
 * })
 * transport.setHandlers({ onCall: (msg) => ({ echo: msg }) })
 * await transport.start()
 * await transport.call(otherPeerId, { hello: 'world' }, { timeoutMs: 1_000 })
 * ```
 *
 * @packageDocumentation
 */
export { Transport, validateTransportInit } from './transport.js'
export type { TransportComponents, TransportInit, TransportHandlers, CallOptions } from './transport.js'
export type { TransportStats } from './stats.js'
export { Kind, checkEnvelope } from './envelope.js'
export type { Envelope } from './envelope.js'
export { FrameDecoder, encodeFrame, decodeFrameBody, FRAME_HEADER_BYTES } from './frame-codec.js'
