import { AbortError, ClusterKeyError, NodeUnavailableError } from '@simplepool/core'

/** Errors of a connection that was made but failed while being secured. */
const HANDSHAKE_FAILURES = new Set(['EncryptionFailedError', 'InvalidCryptoExchangeError'])

/**
 * What a handshake failure says when the peer sent bytes that do not decode under this
 * node's key setting (measured: a node without a key reads a keyed peer's nonce as a
 * length too long or a line with no newline; a keyed one, a peer's garbage so), as
 * opposed to a connection that was reset or closed, which proves nothing of the key.
 */
const GARBLED = /too long|missing newline|decryption|not long enough/i

/**
 * What noise says when the peer proved another identity than the address named (a node that
 * restarted with a new peer id where an old one was known): a live peer with this node's key.
 */
const ANOTHER_PEER = /does not match expected remote|invalid payload signature/i

/** The name and message of an error and of the first it aggregates. */
function describe (err: unknown): { name: string, text: string, message: string, said: string } {
  const e = err as { name?: string, message?: string, code?: string, errors?: unknown[] } | undefined
  const inner = Array.isArray(e?.errors) && e.errors.length > 0 ? e.errors[0] as typeof e : undefined
  return {
    name: inner?.name ?? e?.name ?? '',
    text: `${e?.name ?? ''} ${e?.message ?? ''} ${e?.code ?? ''} ${inner?.name ?? ''} ${inner?.message ?? ''} ${inner?.code ?? ''}`,
    message: `${inner?.name ?? e?.name ?? 'Error'}: ${inner?.message ?? e?.message ?? String(err)}`,
    said: `${e?.message ?? ''} ${inner?.message ?? ''}`
  }
}

/**
 * True when a dial failed after the peer's private network answered its nonce, in a way
 * that a peer with another key causes (a reset, a close, a timeout, bytes that do not
 * decode): worth another dial (see `dialProven`). Not when the peer proved another identity.
 */
export function mayBeKeyRefusal (err: unknown, answered: boolean): boolean {
  if (!answered) return false
  const { name, text, said } = describe(err)
  return name !== 'AbortError' && !ANOTHER_PEER.test(said) && !/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH/.test(text)
}

/** True for a dial that ran out of time (libp2p reads any abort of a dial as one). */
export function isDialTimeout (err: unknown): boolean {
  const { name, text } = describe(err)
  return name === 'TimeoutError' || /timed out|timeout/i.test(text)
}

/**
 * Names why a dial failed, for the operator, by what it proved. `ClusterKeyError` only for
 * a proven mismatch: the peer sent bytes this node cannot read under its key setting, or
 * (`keyRefused`, see `dialProven`) its private network answered dials in a row and then
 * refused what this node sent under its key (measured on loopback: a peer with another key
 * resets the connection, or lets it time out, right after the nonce exchange; a peer that
 * dies mid-handshake ends so once, and refuses the next dial outright). Anything else is
 * `NodeUnavailableError`.
 */
export function explainDialError (err: unknown, target: string, hasClusterKey: boolean, timeoutMs: number, keyRefused = false): Error {
  const { name, text, message, said } = describe(err)
  if (/ECONNREFUSED/.test(text)) {
    return new NodeUnavailableError(`${target} refused the connection: no node listens there`, { reason: 'refused' })
  }
  // no route: the network between is at fault, which proves nothing of the peer (a
  // partition looks like this), so it is no refusal
  if (/EHOSTUNREACH|ENETUNREACH/.test(text)) {
    return new NodeUnavailableError(`no route to ${target}: the network between is down or cut`, { reason: 'unreachable' })
  }
  if (name === 'AbortError') return new AbortError(`the dial to ${target} was aborted`, { reason: 'aborted' })
  if (ANOTHER_PEER.test(said)) {
    return new NodeUnavailableError(`${target} is another node than the one named (${message}): it restarted with a new identity, or the address is stale`, { reason: 'identity' })
  }
  const garbled = HANDSHAKE_FAILURES.has(name) && GARBLED.test(said)
  if (garbled || keyRefused) {
    const why = garbled ? `sent bytes this node cannot read (${message})` : 'answered the private network\'s nonce and then refused what this node sent, on dials in a row'
    // reason 'key', not 'refused': a member's liveness is never judged by it (a member with
    // another key could not have joined; a misjudged link must not mark one down)
    return new ClusterKeyError(hasClusterKey
      ? `${target} ${why}: it does not share this node's cluster key`
      : `${target} ${why}: it requires a cluster key this node was not given, or is no SimplePool node`, { reason: 'key' })
  }
  // from here on nothing proves a key: a peer that died or was reset mid-handshake, or one
  // that is slow, ends so too
  const hint = hasClusterKey ? ' (if the peer is up, check that it has this node\'s cluster key)' : ''
  if (name === 'TimeoutError' || /timed out|timeout/i.test(text)) {
    return new NodeUnavailableError(`could not connect to ${target} within ${timeoutMs} ms${hint}`, { reason: 'timeout' })
  }
  if (HANDSHAKE_FAILURES.has(name) || name === 'UnexpectedEOFError' || /ECONNRESET|EPIPE/.test(text)) {
    return new NodeUnavailableError(`${target} closed the connection while it was being secured (${message})${hint}`, { reason: 'handshake' })
  }
  return new NodeUnavailableError(`could not connect to ${target}: ${message}`, { reason: 'other' })
}

/**
 * True when a dial error proves the peer cannot be reached: it refused the connection (no
 * process listens there). A key refusal is not one here (see `ClusterKeyError`'s reason). A timeout proves nothing (the peer,
 * or this node, may just be busy), nor does a missing route (the network between may be
 * cut, the peer alive behind it) or a connection closed mid-handshake (the redial that
 * follows tells), so liveness is then left to the heartbeat deadlines.
 */
export function isRefusal (err: unknown): boolean {
  return (err as { data?: { reason?: string } } | undefined)?.data?.reason === 'refused'
}
