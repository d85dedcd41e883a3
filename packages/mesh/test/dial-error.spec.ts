import '@simplepool/core/polyfill'
import net from 'node:net'
import { expect } from 'chai'
import { multiaddr } from '@multiformats/multiaddr'
import { systemClock, timeoutSignal } from '@simplepool/core'
import { explainDialError, isRefusal, mayBeKeyRefusal } from '../src/dial-error.js'
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
      expect(isRefusal(withKey)).to.equal(true)
      expect(explainDialError(err, 'x', false, 3_000).message).to.match(/requires a cluster key this node was not given/)
    }
  })

  it('a handshake reset or closed proves no key: only two in a row after the peer answered the nonce do', () => {
    for (const err of [named('EncryptionFailedError', 'read ECONNRESET'), named('InvalidCryptoExchangeError', 'read ECONNRESET'), named('UnexpectedEOFError', 'Unexpected EOF')]) {
      const once = explainDialError(err, 'x', true, 3_000)
      expect(once.name, err.message).to.equal('NodeUnavailableError')
      expect(isRefusal(once)).to.equal(false)
      expect(once.message).to.match(/check that it has this node's cluster key/)
      expect(explainDialError(err, 'x', true, 3_000, { answered: true, refusedBefore: false }).name).to.equal('NodeUnavailableError')
      expect(explainDialError(err, 'x', true, 3_000, { answered: false, refusedBefore: true }).name).to.equal('NodeUnavailableError')
      expect(explainDialError(err, 'x', true, 3_000, { answered: true, refusedBefore: true }).name).to.equal('ClusterKeyError')
      expect(mayBeKeyRefusal(err, true)).to.equal(true)
      expect(mayBeKeyRefusal(err, false)).to.equal(false)
    }
  })

  it('a timeout is no key problem unless proven, and no refusal', () => {
    const err = named('TimeoutError', 'The operation was aborted due to timeout')
    for (const hasKey of [true, false]) {
      const n = explainDialError(err, 'x', hasKey, 3_000)
      expect(n.name).to.equal('NodeUnavailableError')
      expect(isRefusal(n)).to.equal(false)
    }
    expect(explainDialError(err, 'x', true, 3_000, { answered: true, refusedBefore: true }).name).to.equal('ClusterKeyError')
  })

  it("a caller's abort stays an AbortError, and is never a key refusal", () => {
    const abort = named('AbortError', 'aborted')
    expect(explainDialError(abort, 'x', true, 3_000, { answered: true, refusedBefore: true }).name).to.equal('AbortError')
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

/**
 * A node that dies mid-handshake: a proxy to `upstream` that, on its one connection, passes
 * `cut` bytes of the node's answer on and then resets both sides and stops listening, as a
 * killed process's port refuses every later dial.
 */
async function dyingAt (upstream: string, cut: number): Promise<{ address: string, close: () => void }> {
  const port = Number(/tcp\/(\d+)/.exec(upstream)?.[1])
  const sockets: net.Socket[] = []
  const server = net.createServer((client) => {
    server.close()
    const up = net.connect(port, '127.0.0.1')
    sockets.push(client, up)
    let passed = 0
    const die = (): void => { client.resetAndDestroy(); up.resetAndDestroy() }
    client.on('data', (d) => up.write(d))
    up.on('data', (d: Buffer) => {
      const room = cut - passed
      passed += d.length
      if (room > 0) client.write(d.subarray(0, room))
      if (passed >= cut) die()
    })
    if (cut === 0) die()
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

  it('a host with another cluster key: ClusterKeyError on every dial (a reset or a wait after its nonce, twice)', async () => {
    const keyed = await made(KEY_B)
    const dialer = await made(KEY_A)
    const to = keyed.host.getMultiaddrs()[0].toString()
    for (let i = 0; i < 5; i++) expect((await dialError(dialer, true, to))?.name).to.equal('ClusterKeyError')
  })

  it('a host with a key dialed by one without: ClusterKeyError once its bytes reach the dialer, else only a timeout', async () => {
    const keyed = await made(KEY_B)
    const dialer = await made()
    const to = keyed.host.getMultiaddrs()[0].toString()
    const names: string[] = []
    for (let i = 0; i < 12; i++) {
      const err = await dialError(dialer, false, to)
      names.push(err?.name === 'NodeUnavailableError' ? `NodeUnavailableError/${(err as { data?: { reason?: string } }).data?.reason ?? ''}` : err?.name ?? 'connected')
    }
    expect(names).to.include('ClusterKeyError')
    expect(names.filter(n => n !== 'ClusterKeyError' && n !== 'NodeUnavailableError/timeout'), names.join(', ')).to.deep.equal([])
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
