/**
 * Access rules: who, among the members that hold the cluster key, may do what. A member
 * is named by its peer id, which the Noise handshake of every connection proves; rules
 * name roles (lists of peer ids) and grant them rights on pools and node operations.
 * With no rules a node is open to every member (the cluster key is the only gate); once
 * rules are given, whatever they do not grant is refused.
 */
import { InvalidOptionError } from '@simplepool/core'

/**
 * What a role may do with a pool. `call`: call, cast, spawn, count and locate its
 * workers. `host`: hold them: hand in their state, answer and make claims, keep and ask
 * for replicas, and send on messages for them (a host forwards the calls it is not the
 * owner of, so hosting implies calling).
 */
export interface PoolGrant {
  call?: readonly string[]
  host?: readonly string[]
}

/**
 * The node operations rules grant. `targets`, `drain` (and asking how many workers a
 * drain left), `undrain`, `rebalance`, `stop` (a worker, wherever it lives) are an
 * operator's writes; `read` is the figures an operator reads of a node (health, rings,
 * the dashboard's watch, a worker's place and moves, a rebalance's plan). Two questions
 * members ask each other to run at all are open to every member: which members hold
 * workers (asked by a node that joins) and whether the asker was marked down (asked by
 * a node back from a stall, before it serves again).
 */
export const NODE_OPERATIONS = ['targets', 'drain', 'undrain', 'rebalance', 'stop', 'read'] as const

/** One of {@link NODE_OPERATIONS}. */
export type NodeOperation = typeof NODE_OPERATIONS[number]

/** The role every member holds, whatever the roles list: `call: ['*']` lets any member call. */
export const ANY_MEMBER = '*'

/** The pool rule of every pool not named: `pools: { '*': { call: ['edge'] } }`. */
export const ANY_POOL = '*'

/**
 * A node's access rules.
 *
 * @example
 * ```ts
 * const access: AccessRules = {
 *   roles: { edge: [apiPeerId], workers: [w1, w2, w3], ops: [laptopPeerId] },
 *   pools: { 'chat-room': { call: ['edge'], host: ['workers'] }, billing: { host: ['workers'] } },
 *   operations: { drain: ['ops'], undrain: ['ops'], targets: ['ops'], read: ['ops', 'workers'] }
 * }
 * ```
 */
export interface AccessRules {
  /** Role name to the peer ids that hold it. A peer may hold several roles. */
  roles: Readonly<Record<string, readonly string[]>>
  /** Pool name (or `'*'` for every pool not named) to the roles granted each right on it. */
  pools?: Readonly<Record<string, PoolGrant>>
  /** Node operation to the roles granted it. */
  operations?: Readonly<Partial<Record<NodeOperation, readonly string[]>>>
}

/**
 * Checks rules as given by a user (or a config file) and says what is wrong: a field of
 * the wrong type, a role granted but never defined (a typo that would deny silently), an
 * operation that does not exist. `isPeerId` checks each peer id's form when the caller
 * can (the libp2p node does).
 */
export function validateAccessRules (rules: unknown, isPeerId?: (id: string) => boolean): AccessRules {
  if (rules === null || typeof rules !== 'object' || Array.isArray(rules)) throw new InvalidOptionError(`access must be an object of roles, pools and operations, got ${typeName(rules)}`)
  const r = rules as Record<string, unknown>
  for (const key of Object.keys(r)) {
    if (key !== 'roles' && key !== 'pools' && key !== 'operations') throw new InvalidOptionError(`access has no field ${key}: it takes roles, pools and operations`)
  }
  const roles = objectOf(r.roles, 'access.roles')
  if (roles === undefined) throw new InvalidOptionError('access.roles is required: role name to a list of peer ids')
  for (const [role, peers] of Object.entries(roles)) {
    if (role === ANY_MEMBER) throw new InvalidOptionError(`access.roles cannot define ${ANY_MEMBER}: it is the role of every member`)
    for (const peer of listOf(peers, `access.roles.${role}`)) {
      if (isPeerId !== undefined && !isPeerId(peer)) throw new InvalidOptionError(`access.roles.${role} has ${JSON.stringify(peer)}, which is not a peer id`)
    }
  }
  const granted = (list: unknown, where: string): void => {
    for (const role of listOf(list, where)) {
      if (role !== ANY_MEMBER && !Object.hasOwn(roles, role)) throw new InvalidOptionError(`${where} grants role ${JSON.stringify(role)}, which access.roles does not define`)
    }
  }
  for (const [pool, grant] of Object.entries(objectOf(r.pools, 'access.pools') ?? {})) {
    const g = objectOf(grant, `access.pools.${pool}`) ?? {}
    for (const [right, list] of Object.entries(g)) {
      if (right !== 'call' && right !== 'host') throw new InvalidOptionError(`access.pools.${pool} has no right ${right}: a pool grants call and host`)
      granted(list, `access.pools.${pool}.${right}`)
    }
  }
  for (const [op, list] of Object.entries(objectOf(r.operations, 'access.operations') ?? {})) {
    if (!(NODE_OPERATIONS as readonly string[]).includes(op)) throw new InvalidOptionError(`access.operations has no operation ${op}: it grants ${NODE_OPERATIONS.join(', ')}`)
    granted(list, `access.operations.${op}`)
  }
  return rules as AccessRules
}

function objectOf (v: unknown, where: string): Record<string, unknown> | undefined {
  if (v === undefined) return undefined
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InvalidOptionError(`${where} must be an object, got ${typeName(v)}`)
  return v as Record<string, unknown>
}

function listOf (v: unknown, where: string): string[] {
  if (!Array.isArray(v) || v.some(x => typeof x !== 'string' || x.length === 0)) throw new InvalidOptionError(`${where} must be a list of non-empty strings, got ${typeName(v)}`)
  return v
}

function typeName (v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v
}
