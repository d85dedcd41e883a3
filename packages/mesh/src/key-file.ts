import { open, readFile, stat } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { InvalidOptionError } from '@simplepool/core'

/** A node's identity, read from its key file or just made there. */
export interface KeyFile {
  privateKey: PrivateKey
  /** The file was missing, and was made now. */
  created: boolean
  /** Others than its owner may read the file (its mode allows group or others). */
  exposed: boolean
}

/**
 * Reads a node's identity (its libp2p private key, in libp2p's protobuf encoding) from
 * `path`, or, when there is no file there, makes a new Ed25519 key and writes it with mode
 * 0600, so the node keeps its peer id across restarts. Never writes over a file: a file
 * that holds no key is an `InvalidOptionError`, as is one that cannot be read.
 */
export async function loadKeyFile (path: string): Promise<KeyFile> {
  for (;;) {
    let bytes: Uint8Array | undefined
    try {
      bytes = await readFile(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new InvalidOptionError(`cannot read key file ${path}: ${(err as Error).message}`)
    }
    if (bytes !== undefined) {
      let privateKey: PrivateKey
      try {
        privateKey = privateKeyFromProtobuf(bytes)
      } catch (err) {
        throw new InvalidOptionError(`key file ${path} holds no libp2p private key (${(err as Error).message}); move it away to have a new one made`)
      }
      return { privateKey, created: false, exposed: ((await stat(path)).mode & 0o077) !== 0 }
    }
    const privateKey = await generateKeyPair('Ed25519')
    let file
    try {
      // 'wx': a file another process made meanwhile is read, not overwritten
      file = await open(path, 'wx', 0o600)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue
      throw new InvalidOptionError(`cannot make key file ${path}: ${(err as Error).message}`)
    }
    try {
      await file.writeFile(privateKeyToProtobuf(privateKey))
      await file.sync()
    } finally {
      await file.close()
    }
    return { privateKey, created: true, exposed: false }
  }
}
