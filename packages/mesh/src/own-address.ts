/**
 * Whether a bootstrap address names this node itself: a static list of a cluster's nodes,
 * given to each of them, names each one too. Such an address is not dialled, and a list
 * that names only the node is a first node's: it starts a cluster.
 */
export function namesSelf (addr: string, self: string, addresses: readonly string[]): boolean {
  if (addr.endsWith(`/p2p/${self}`)) return true
  const bare = (a: string): string => a.replace(/\/p2p\/[^/]+$/, '')
  return addresses.some(a => bare(a) === bare(addr))
}
