import { InvalidOptionError } from '@simplepool/core'

const HEADER = '/key/swarm/psk/1.0.0/\n/base16/\n'

/**
 * Turns a user's cluster key into the key file `@libp2p/pnet` expects. Accepted: 64 hex
 * characters (32 bytes), the key file text itself, or the key file bytes.
 */
export function clusterKeyFile (key: string | Uint8Array): Uint8Array {
  const text = typeof key === 'string' ? key : new TextDecoder().decode(key)
  const trimmed = text.trim()
  let hex: string
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) {
    hex = trimmed
  } else {
    const m = /^\/key\/swarm\/psk\/1\.0\.0\/\s*\n\s*\/base16\/\s*\n\s*([0-9a-fA-F]{64})\s*$/.exec(trimmed)
    if (m == null) {
      throw new InvalidOptionError('clusterKey must be 64 hex characters (32 bytes) or a libp2p pnet key file', { type: typeof key })
    }
    hex = m[1]
  }
  return new TextEncoder().encode(HEADER + hex.toLowerCase())
}

/** A new random cluster key as 64 hex characters. */
export function generateClusterKey (): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
}
