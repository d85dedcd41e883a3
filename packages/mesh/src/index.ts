/**
 * SimplePool's mesh: a libp2p host (TCP, Noise, Yamux, Identify, gossipsub, optional
 * private network) with gossip membership and failure detection. Every node publishes
 * its record on a heartbeat and folds everyone's records into an immutable, versioned
 * membership snapshot.
 *
 * `WitnessMesh` is a host on the membership meant to replace it at scale
 * (docs/design/membership-v2.md): witness links instead of a full mesh, the member list
 * pulled at a join and pushed over the links, a member down once a majority of its
 * witnesses doubt it (`WitnessDetector`); `createNode({ membership: 'witness' })` runs it.
 *
 * @example
 * ```ts
 * import '@simplepool/core/polyfill'
 * import { Mesh } from '@simplepool/mesh'
 * const a = new Mesh({ targets: { 'chat-room': 100 } })
 * await a.start()
 * const b = new Mesh({ bootstrap: a.addresses, targets: { 'chat-room': 100 } })
 * b.addEventListener('member:join', (evt) => console.log('joined', evt.detail.peerId))
 * await b.start()
 * ```
 *
 * @packageDocumentation
 */
export { Mesh } from './mesh.js'
export { WitnessMesh } from './witness-mesh.js'
export type { MeshEvents, StreamHost } from './hosted-mesh.js'
export { validateMeshInit, validateTargets } from './mesh-options.js'
export type { MeshInit } from './mesh-options.js'
export { MembershipView } from './membership-view.js'
export type { MembershipViewInit } from './membership-view.js'
export { encodeRecord, decodeRecord, MAX_RECORD_BYTES } from './record-codec.js'
export { clusterKeyFile, generateClusterKey } from './cluster-key.js'
export { loadKeyFile } from './key-file.js'
export type { KeyFile } from './key-file.js'
export { explainDialError, isRefusal } from './dial-error.js'
export { namesSelf } from './own-address.js'
export { isPeerId } from './peer-id-form.js'
export type { Host, HostServices } from './host.js'
export { WitnessDetector } from './witness/witness-detector.js'
export { WITNESS_DEFAULTS } from './witness/witness-options.js'
export type { WitnessComponents, WitnessLiveness, WitnessOptions, WitnessedMember } from './witness/witness-options.js'
export type { WitnessBeat, WitnessMessage, WitnessNews, WitnessUpdate } from './witness/witness-messages.js'
export { witnessesOf } from './witness/witnesses.js'
export { WITNESS_MEMBERSHIP_DEFAULTS, WitnessMembership } from './witness/witness-membership.js'
export { WITNESS_MESH_EVENTS, WitnessMeshCore } from './witness/witness-mesh-core.js'
export type { WitnessMeshCoreInit } from './witness/witness-mesh-core.js'
export { isRosterMessage } from './witness/witness-messages.js'
export type { LinkMessage } from './witness/witness-messages.js'
export type { SelfInit, WitnessMembershipComponents, WitnessMembershipOptions } from './witness/witness-membership.js'
export { Roster, ROSTER_DEFAULTS } from './witness/roster.js'
export type { RosterComponents, RosterOptions } from './witness/roster.js'
export type { RosterDigest, RosterMessage, RosterPull, RosterRecord, RosterRecords, RosterVersion } from './witness/roster-messages.js'
