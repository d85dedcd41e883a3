/**
 * Deterministic inputs for the ring tests: peer-id-like node names and worker ids from a
 * seeded generator, and snapshot builders.
 */
import { seededRandom } from '@simplepool/core'
import type { Member, MemberStatus, Liveness, MembershipSnapshot, Random } from '@simplepool/core'

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

function randomString (random: Random, alphabet: string, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random.next() * alphabet.length)]
  return out
}

/** `count` distinct names shaped like libp2p Ed25519 peer ids (`12D3KooW` + 44 base58). */
export function peerIds (count: number, seed: number): string[] {
  const random = seededRandom(seed)
  const out = new Set<string>()
  while (out.size < count) out.add('12D3KooW' + randomString(random, BASE58, 44))
  return [...out]
}

/** `count` distinct worker ids: a mix of random tokens and sequential keys. */
export function workerIds (count: number, seed: number): string[] {
  const random = seededRandom(seed)
  const out: string[] = []
  for (let i = 0; i < count; i++) {
    out.push(i % 2 === 0 ? `user:${i}` : randomString(random, BASE58, 16) + `#${i}`)
  }
  return out
}

/** Node → weight, with weights cycling through `pattern`. */
export function weighted (nodes: string[], pattern: number[]): Map<string, number> {
  return new Map(nodes.map((n, i) => [n, pattern[i % pattern.length]]))
}

/** A member as a snapshot holds it, with the given pool targets. */
export function member (
  peerId: string,
  pools: Record<string, number>,
  opts: { status?: MemberStatus, liveness?: Liveness, incarnation?: number, port?: number } = {}
): Member {
  const targets: Record<string, { target: number }> = {}
  for (const [pool, target] of Object.entries(pools)) targets[pool] = { target }
  return {
    peerId,
    addresses: [`/ip4/127.0.0.1/tcp/${opts.port ?? 4001}/p2p/${peerId}`],
    status: opts.status ?? 'up',
    pools: targets,
    incarnation: opts.incarnation ?? 1,
    liveness: opts.liveness ?? 'alive'
  }
}

/** A snapshot of `members`, sorted by peer id as membership keeps them. */
export function snapshot (version: number, members: Member[]): MembershipSnapshot {
  const sorted = [...members].sort((a, b) => (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0))
  return { version, self: sorted[0]?.peerId ?? '', members: sorted }
}
