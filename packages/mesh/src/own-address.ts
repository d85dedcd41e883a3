import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * Whether a bootstrap address names this node itself: a static list of a cluster's nodes,
 * given to each of them, names each one too. Such an address is not dialled, and a list
 * that names only the node is a first node's: it starts a cluster. An address with a peer
 * id is this node's when the id is; one without, when it is one of this node's addresses
 * (a DNS name or an address behind NAT that leads here is not known as its own).
 */
export function namesSelf (addr: string, self: string, addresses: readonly string[]): boolean {
  // an address with a peer id names that peer, wherever it points: one of this node's
  // own host:port with another id is a stale or wrong entry, to be dialled and reported
  const id = /\/(?:p2p|ipfs)\/([^/]+)$/.exec(addr)?.[1]
  if (id !== undefined) return id === self
  return addresses.some(a => a.replace(/\/p2p\/[^/]+$/, '') === addr)
}

/** The names of the multiaddr components that carry a host. */
const HOSTS = new Set(['ip4', 'ip6', 'dns', 'dns4', 'dns6'])

/** The host (name or IP address) a multiaddr names, or undefined when it names none. */
export function hostOf (addr: Multiaddr | undefined): string | undefined {
  return addr?.getComponents().find(c => HOSTS.has(c.name))?.value
}
