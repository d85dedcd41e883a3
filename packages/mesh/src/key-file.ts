import { randomBytes } from 'node:crypto'
import { link, lstat, open, readFile, stat, unlink } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { InvalidOptionError } from '@simplepool/core'

/** A node's identity, read from its key file or just made there. */
export interface KeyFile {
  privateKey: PrivateKey
  /** The peer id the key proves: what access rules name this node by. */
  peerId: string
  /** The file was missing, and was made now. */
  created: boolean
  /** Others than its owner may read the file (its mode allows group or others). */
  exposed: boolean
}

/** Reads the key in `path`; undefined when there is no file there. */
async function readKey (path: string): Promise<KeyFile | undefined> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new InvalidOptionError(`cannot read key file ${path}: ${(err as Error).message}`)
    // a link to nowhere (a secret not mounted yet) is no place to make a key
    if ((await lstat(path).catch(() => undefined))?.isSymbolicLink() === true) throw new InvalidOptionError(`key file ${path} is a symbolic link to a file that does not exist`)
    return undefined
  }
  let privateKey: PrivateKey
  try {
    privateKey = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new InvalidOptionError(`key file ${path} holds no libp2p private key (${(err as Error).message}); move it away to have a new one made`)
  }
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), created: false, exposed: ((await stat(path)).mode & 0o077) !== 0 }
}

/**
 * Reads a node's identity (its libp2p private key, in libp2p's protobuf encoding) from
 * `path`, or, when there is no file there, makes a new Ed25519 key and writes it with mode
 * 0600, so the node keeps its peer id across restarts. The key is written whole to a file
 * of its own and then linked into place: a crash leaves no empty key file, and of two
 * processes making one at once, both use the one linked first. Never writes over a file: a
 * file that holds no key is an `InvalidOptionError`, as is one that cannot be read.
 */
export async function loadKeyFile (path: string): Promise<KeyFile> {
  const found = await readKey(path)
  if (found !== undefined) return found
  const privateKey = await generateKeyPair('Ed25519')
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  try {
    const file = await open(temp, 'wx', 0o600)
    try {
      await file.writeFile(privateKeyToProtobuf(privateKey))
      await file.sync()
    } finally {
      await file.close()
    }
    try {
      await link(temp, path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      // another process made it first: its key is the node's
      const theirs = await readKey(path)
      if (theirs !== undefined) return theirs
      throw err
    }
  } catch (err) {
    if (err instanceof InvalidOptionError) throw err
    throw new InvalidOptionError(`cannot make key file ${path}: ${(err as Error).message}`)
  } finally {
    await unlink(temp).catch(() => {})
  }
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), created: true, exposed: false }
}
