/**
 * SimplePool: long-lived, addressable workers across a peer-to-peer cluster of Node.js
 * processes, with no central server. This umbrella package re-exports the layers: the
 * contracts (`@simplepool/core`), placement (`@simplepool/ring`), the libp2p mesh with
 * gossip membership (`@simplepool/mesh`) and the direct transport
 * (`@simplepool/transport`). `createNode` and `definePool` join them in the runtime.
 *
 * @example
 * ```ts
 * import { Mesh, Placement } from 'simplepool'
 * const mesh = new Mesh({ targets: { 'chat-room': 100 } })
 * await mesh.start()
 * Placement.fromSnapshot(mesh.snapshot()).ownerOf('chat-room', 'room-42') // this node's peer id
 * ```
 *
 * @packageDocumentation
 */
import '@simplepool/core/polyfill'

export * from '@simplepool/core'
export * from '@simplepool/ring'
export * from '@simplepool/mesh'
export * from '@simplepool/transport'
