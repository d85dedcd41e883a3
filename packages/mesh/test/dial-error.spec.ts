import '@simplepool/core/polyfill'
import net from 'node:net'
import { expect } from 'chai'
import { multiaddr } from '@multiformats/multiaddr'
import { systemClock, timeoutSignal } from '@simplepool/core'
import { explainDialError, isDialTimeout, isRefusal, mayBeKeyRefusal } from '../src/dial-error.js'
import { HandshakeWitness } from '../src/handshake-witness.js'
import { createHost } from '../src/host.js'
import type { Host } from '../src/host.js'
import { dialProven } from '../src/proven-dial.js'

const named = (name: string, message: string): Error => Object.assign(new Error(message), { name })

describe('explainDialError', () => {
  it('a refused connection means nobody listens, and is proof the peer is unreachable', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
    const n = explainDialError(err, 'x', true, 3_000)
    expect(n.name).to.equal('NodeUnavailableError')
    expect(isRefusal(n)).to.equal(true)
  })

  it('no route to the peer proves nothing of it (a cut network looks so): no refusal', () => {
    for (const code of ['EHOSTUNREACH', 'ENETUNREACH']) {
      const n = explainDialError(Object.assign(new Error(`connect ${code} 10.0.0.2:4001`), { code }), 'x', false, 3_000)
      expect(n.name).to.equal('NodeUnavailableError')
      expect(n.message).to.match(/no route/)
      expect(isRefusal(n)).to.equal(false)
    }
  })

  it('bytes that do not decode in the handshake prove a key mismatch, worded for each side', () => {
    for (const said of ['Message length too long - 7185 > 1024', 'Missing newline', 'handshake stage 1 validation fail: Invalid chacha20poly1305 decryption']) {
      const err = named('EncryptionFailedError', said)
      const withKey = explainDialError(err, 'x', true, 3_000)
      expect(withKey.name).to.equal('ClusterKeyError')
      expect(withKey.message).to.match(/does not share this node's cluster key/)
      expect(isRefusal(withKey), 'a key refusal never judges liveness').to.equal(false)
      expect(explainDialError(err, 'x', false, 3_000).message).to.match(/requires a cluster key this node was not given/)
    }
  })

  it('a handshake reset or closed proves no key by itself: only dials in a row that did (keyRefused) do', () => {
    for (const err of [named('EncryptionFailedError', 'read ECONNRESET'), named('InvalidCryptoExchangeError', 'read ECONNRESET'), named('UnexpectedEOFError', 'Unexpected EOF')]) {
      const once = explainDialError(err, 'x', true, 3_000)
      expect(once.name, err.message).to.equal('NodeUnavailableError')
      expect(isRefusal(once)).to.equal(false)
      expect(once.message).to.match(/check that it has this node's cluster key/)
      expect(explainDialError(err, 'x', true, 3_000, true).name).to.equal('ClusterKeyError')
      expect(mayBeKeyRefusal(err, true)).to.equal(true)
      expect(mayBeKeyRefusal(err, false)).to.equal(false)
    }
  })

  it('a peer that proved another identity than the address named is a live node with this key: no key problem', () => {
    const err = named('EncryptionFailedError', 'Payload identity key 0x01 does not match expected remote identity key 0x02')
    const n = explainDialError(err, 'x', true, 3_000)
    expect(n.name).to.equal('NodeUnavailableError')
    expect(n.message).to.match(/another node than the one named/)
    expect(mayBeKeyRefusal(err, true)).to.equal(false)
  })

  it('a timeout is no key problem unless proven, and no refusal', () => {
    const err = named('TimeoutError', 'The operation was aborted due to timeout')
    for (const hasKey of [true, false]) {
      const n = explainDialError(err, 'x', hasKey, 3_000)
      expect(n.name).to.equal('NodeUnavailableError')
      expect(isRefusal(n)).to.equal(false)
    }
    expect(isDialTimeout(err)).to.equal(true)
  })

  it("a caller's abort stays an AbortError, and is never a key refusal", () => {
    const abort = named('AbortError', 'aborted')
    expect(explainDialError(abort, 'x', true, 3_000, true).name).to.equal('AbortError')
    expect(mayBeKeyRefusal(abort, true)).to.equal(false)
  })
})

/** A real libp2p host on loopback, with a witness, as a mesh makes one. */
async function host (clusterKey?: string): Promise<{ host: Host, witness: HandshakeWitness }> {
  const witness = new HandshakeWitness(systemClock)
  const h = await createHost({ listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], clusterKey, witness, allow: ['/ip4/127.0.0.0/ipcidr/8'], heartbeatMs: 500 })
  await h.start()
  return { host: h, witness }
}

const KEY_A = 'a1'.repeat(32)
const KEY_B = 'b2'.repeat(32)
const DIAL_MS = 1_000

/** Dials `to` from `from` as a mesh does; the named error, or undefined when it connected. */
async function dialError (from: { host: Host, witness: HandshakeWitness }, hasKey: boolean, to: string): Promise<Error | undefined> {
  try {
    const conn = await dialProven({
      host: from.host,
      clock: systemClock,
      witness: hasKey ? from.witness : undefined,
      targets: [multiaddr(to)],
      label: to,
      signal: () => timeoutSignal(systemClock, DIAL_MS),
      force: true,
      timeoutMs: DIAL_MS
    })
    await conn.close()
    return undefined
  } catch (err) {
    return err as Error
  }
}

/** What `n` named dials met, one after another: an error's name (and a `NodeUnavailableError`'s reason), or 'connected'. */
async function namesOf (from: { host: Host, witness: HandshakeWitness }, hasKey: boolean, to: string, n: number): Promise<string[]> {
  const names: string[] = []
  for (let i = 0; i < n; i++) {
    const err = await dialError(from, hasKey, to)
    names.push(err?.name === 'NodeUnavailableError' ? `NodeUnavailableError/${(err as { data?: { reason?: string } }).data?.reason ?? ''}` : err?.name ?? 'connected')
  }
  return names
}

/**
 * A node that dies mid-handshake: a proxy to `upstream` that, on its one connection, passes
 * `cut` bytes of the node's answer on and then resets both sides and stops listening, as a
 * killed process's port refuses every later dial. With `stall`, a node that stands still
 * there instead: it passes the bytes and then nothing more, and takes every later dial so.
 */
async function dyingAt (upstream: string, cut: number, stall = false): Promise<{ address: string, close: () => void }> {
  const port = Number(/tcp\/(\d+)/.exec(upstream)?.[1])
  const sockets: net.Socket[] = []
  const server = net.createServer((client) => {
    if (!stall) server.close()
    const up = net.connect(port, '127.0.0.1')
    sockets.push(client, up)
    let passed = 0
    const die = (): void => { client.resetAndDestroy(); up.resetAndDestroy() }
    client.on('data', (d) => up.write(d))
    up.on('data', (d: Buffer) => {
      const room = cut - passed
      passed += d.length
      if (room > 0) client.write(d.subarray(0, room))
      if (passed >= cut && !stall) die()
    })
    if (cut === 0 && !stall) die()
    for (const s of [client, up]) s.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = `/ip4/127.0.0.1/tcp/${(server.address() as net.AddressInfo).port}`
  return { address, close: () => { server.close(); for (const s of sockets) s.destroy() } }
}

describe('dial failures on real hosts are named by what they proved', function () {
  this.timeout(60_000)
  const hosts: Host[] = []
  const made = async (key?: string): Promise<{ host: Host, witness: HandshakeWitness }> => {
    const h = await host(key)
    hosts.push(h.host)
    return h
  }

  after(async () => {
    await Promise.all(hosts.map(async h => { await h.stop() }))
  })

  it('a host with another cluster key: ClusterKeyError once a dial is reset after its nonce, else only a timeout', async () => {
    const keyed = await made(KEY_B)
    const dialer = await made(KEY_A)
    const to = keyed.host.getMultiaddrs()[0].toString()
    // each named dial makes up to three; measured, a dial so is reset or waits out its
    // deadline about as often: all three wait in about one named dial in twenty
    const names = await namesOf(dialer, true, to, 6)
    expect(names).to.include('ClusterKeyError')
    expect(names.filter(n => n !== 'ClusterKeyError' && n !== 'NodeUnavailableError/timeout'), names.join(', ')).to.deep.equal([])
  })

  it('a host with a key dialed by one without: ClusterKeyError once its bytes reach the dialer, else only a timeout', async () => {
    const keyed = await made(KEY_B)
    const dialer = await made()
    const to = keyed.host.getMultiaddrs()[0].toString()
    const names = await namesOf(dialer, false, to, 12)
    expect(names).to.include('ClusterKeyError')
    expect(names.filter(n => n !== 'ClusterKeyError' && n !== 'NodeUnavailableError/timeout'), names.join(', ')).to.deep.equal([])
  })

  it('a host with this key that answers its nonce and then stands still is slow, not refusing the key', async () => {
    const target = await made(KEY_A)
    const dialer = await made(KEY_A)
    const stalled = await dyingAt(target.host.getMultiaddrs()[0].toString(), 24, true)
    try {
      // three dials, each waiting out its deadline after the nonce
      expect(await namesOf(dialer, true, stalled.address, 1)).to.deep.equal(['NodeUnavailableError/timeout'])
    } finally {
      stalled.close()
    }
  })

  it('a live host with this key but another peer id than the address names is no key problem', async () => {
    const target = await made(KEY_A)
    const dialer = await made(KEY_A)
    const other = await made(KEY_A)
    const stale = `${target.host.getMultiaddrs()[0].toString().replace(/\/p2p\/.*$/, '')}/p2p/${other.host.peerId.toString()}`
    expect(await namesOf(dialer, true, stale, 2)).to.deep.equal(['NodeUnavailableError/identity', 'NodeUnavailableError/identity'])
  })

  for (const key of [KEY_A, undefined]) {
    it(`a host that dies at any point of the handshake is never named a key mismatch, and is proven gone by the next dial (${key === undefined ? 'no key' : 'same key'})`, async () => {
      const target = await made(key)
      const dialer = await made(key)
      const upstream = target.host.getMultiaddrs()[0].toString()
      const seen: string[] = []
      for (const cut of [0, 1, 10, 23, 24, 25, 30, 40, 60, 80, 100, 150, 200, 300, 400, 600, 800, 1_200, 2_000]) {
        const dying = await dyingAt(upstream, cut)
        try {
          const err = await dialError(dialer, key !== undefined, dying.address)
          seen.push(`${cut}: ${err === undefined ? 'connected' : `${err.name}: ${err.message}`}`)
          // and proven gone: the second dial, after the handshake closed, was refused
          if (err !== undefined) expect(`${err.name}/${String((err as { data?: { reason?: string } }).data?.reason)}`, seen.join('\n')).to.equal('NodeUnavailableError/refused')
        } finally {
          dying.close()
        }
      }
    })
  }
})
