import { AbortError, ClusterKeyError, NodeUnavailableError } from '@simplepool/core'

/** Errors of a connection that was made but refused while being secured. */
const HANDSHAKE_FAILURES = new Set(['EncryptionFailedError', 'InvalidCryptoExchangeError'])

/**
 * Names why a dial failed, for the operator. Measured on loopback with libp2p's private
 * network: a node without the cluster's key (or with another) is reset during the
 * handshake in milliseconds (`EncryptionFailedError`); a node with a key dialing one
 * without it stalls until its timeout, since pnet does not fail fast. So a failed
 * handshake is a cluster key mismatch, and a timeout is one only when this node has a
 * key; without a key a timeout is a slow or unreachable peer.
 */
export function explainDialError (err: unknown, target: string, hasClusterKey: boolean, timeoutMs: number): Error {
  const e = err as { name?: string, message?: string, code?: string, errors?: unknown[] } | undefined
  const inner = Array.isArray(e?.errors) && e.errors.length > 0 ? e.errors[0] as typeof e : undefined
  const text = `${e?.name ?? ''} ${e?.message ?? ''} ${e?.code ?? ''} ${inner?.name ?? ''} ${inner?.message ?? ''} ${inner?.code ?? ''}`
  const name = inner?.name ?? e?.name ?? ''
  if (/ECONNREFUSED/.test(text)) {
    return new NodeUnavailableError(`${target} refused the connection: no node listens there`, { reason: 'refused' })
  }
  // no route: the network between is at fault, which proves nothing of the peer (a
  // partition looks like this), so it is no refusal
  if (/EHOSTUNREACH|ENETUNREACH/.test(text)) {
    return new NodeUnavailableError(`no route to ${target}: the network between is down or cut`, { reason: 'unreachable' })
  }
  if (HANDSHAKE_FAILURES.has(name)) {
    return new ClusterKeyError(hasClusterKey
      ? `${target} refused this node's handshake (${name}): it does not share this node's cluster key`
      : `${target} refused this node's handshake (${name}): the cluster requires a cluster key this node was not given`, { reason: 'refused' })
  }
  if (name === 'AbortError') return new AbortError(`the dial to ${target} was aborted`, { reason: 'aborted' })
  if (name === 'TimeoutError' || /timed out|timeout/i.test(text)) {
    return hasClusterKey
      ? new ClusterKeyError(`could not secure a connection to ${target} within ${timeoutMs} ms: the peer does not use this node's cluster key, or is overloaded`, { reason: 'timeout' })
      : new NodeUnavailableError(`could not connect to ${target} within ${timeoutMs} ms`, { reason: 'timeout' })
  }
  return new NodeUnavailableError(`could not connect to ${target}: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`, { reason: 'other' })
}

/**
 * True when a dial error proves the peer cannot be reached: it refused the connection (no
 * process listens there) or the handshake. A timeout proves nothing (the peer, or this
 * node, may just be busy), nor does a missing route (the network between may be cut, the
 * peer alive behind it), so liveness is then left to the heartbeat deadlines.
 */
export function isRefusal (err: unknown): boolean {
  return (err as { data?: { reason?: string } } | undefined)?.data?.reason === 'refused'
}
