import { ClusterKeyError, NodeUnavailableError } from '@simplepool/core'

const HANDSHAKE_FAILURES = new Set([
  'TimeoutError', 'AbortError', 'EncryptionFailedError', 'UnexpectedEOFError', 'InvalidCryptoExchangeError',
  'UnsupportedProtocolError', 'MuxerUnavailableError', 'InvalidMessageError', 'ProtocolError'
])

/**
 * Names why a dial failed, for the operator. A refused TCP connection means nothing
 * listens there. A dial that connected but could not complete its handshake in time is,
 * on a private network, almost always a cluster key mismatch: libp2p's pnet does not fail
 * fast, the handshake just stalls on bytes it cannot decrypt.
 */
export function explainDialError (err: unknown, target: string, hasClusterKey: boolean, timeoutMs: number): Error {
  const e = err as { name?: string, message?: string, code?: string, errors?: unknown[] } | undefined
  const inner = Array.isArray(e?.errors) && e.errors.length > 0 ? e.errors[0] as typeof e : undefined
  const text = `${e?.name ?? ''} ${e?.message ?? ''} ${e?.code ?? ''} ${inner?.name ?? ''} ${inner?.message ?? ''} ${inner?.code ?? ''}`
  if (/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH/.test(text)) {
    return new NodeUnavailableError(`${target} refused the connection: no node listens there`)
  }
  const name = inner?.name ?? e?.name ?? ''
  if (HANDSHAKE_FAILURES.has(name) || /timed out|aborted|decrypt|handshake/i.test(text)) {
    return new ClusterKeyError(hasClusterKey
      ? `could not secure a connection to ${target} within ${timeoutMs} ms: the peer does not share this node's cluster key`
      : `could not secure a connection to ${target} within ${timeoutMs} ms: the cluster may require a cluster key this node was not given`)
  }
  return new NodeUnavailableError(`could not connect to ${target}: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`)
}
