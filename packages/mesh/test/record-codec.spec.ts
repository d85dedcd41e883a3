import { expect } from 'chai'
import { encode } from 'cbor-x'
import { clusterKeyFile, decodeRecord, encodeRecord, generateClusterKey } from '../src/index.js'
import type { MemberRecord } from '@simplepool/core'

const good: MemberRecord = { peerId: 'p1', addresses: ['/ip4/127.0.0.1/tcp/1'], status: 'up', pools: { room: { target: 10, count: 2 } }, incarnation: 5, seq: 9, load: 0.1, heartbeatMs: 500, epoch: 1_767_225_600_000_123, doubts: ['p7'], hears: [0, 3_000_000_000] }

describe('membership record codec', () => {
  it('round-trips a record', () => {
    expect(decodeRecord(encodeRecord(good))).to.deep.equal(good)
  })

  it('reads a record without an epoch, doubts or hears (an older node) as epoch 0, doubting nobody, silent on whom it hears', () => {
    const { epoch, doubts, hears, ...older } = good
    expect(epoch).to.be.above(0)
    expect(doubts).to.have.length(1)
    expect(hears).to.have.length(2)
    expect(decodeRecord(encode({ v: 1, ...older }))).to.deep.equal({ ...older, epoch: 0, doubts: [] })
  })

  const bad: Array<[string, unknown]> = [
    ['not cbor', null],
    ['not an object', 'hello'],
    ['an unknown version', { ...good, v: 2 }],
    ['a missing peerId', { ...good, v: 1, peerId: undefined }],
    ['an unknown status', { ...good, v: 1, status: 'sleepy' }],
    ['a non-numeric seq', { ...good, v: 1, seq: 'x' }],
    ['negative targets', { ...good, v: 1, pools: { room: { target: -1, count: 0 } } }],
    ['addresses that are not strings', { ...good, v: 1, addresses: [1, 2] }],
    ['a zero heartbeat', { ...good, v: 1, heartbeatMs: 0 }],
    ['a negative epoch', { ...good, v: 1, epoch: -1 }],
    ['an epoch that is not a safe integer', { ...good, v: 1, epoch: 2 ** 60 }],
    ['an address that is not a multiaddr', { ...good, v: 1, addresses: ['not an address'] }],
    ['doubts that are not a list', { ...good, v: 1, doubts: 'p7' }],
    ['a doubted member that is not a peer id', { ...good, v: 1, doubts: [''] }],
    ['hears that are not a list', { ...good, v: 1, hears: 7 }],
    ['a tag that is not a 32-bit unsigned integer', { ...good, v: 1, hears: [2 ** 32] }],
    ['a tag that is negative', { ...good, v: 1, hears: [-1] }],
    ['a seq that is not a whole number (found by fuzzing)', { ...good, v: 1, seq: 5e-324 }],
    ['a negative seq', { ...good, v: 1, seq: -1 }],
    ['a negative load', { ...good, v: 1, load: -0.5 }],
    ['a heartbeat over a minute: the member would be marked down only after four of them', { ...good, v: 1, heartbeatMs: 60_001 }]
  ]
  for (const [what, value] of bad) {
    it(`refuses ${what} with InvalidMessageError`, () => {
      const bytes = value === null ? new Uint8Array([0xff, 0x00, 0x13]) : encode(value)
      expect(() => decodeRecord(bytes)).to.throw().with.property('name', 'InvalidMessageError')
    })
  }

  it('refuses an oversized record before decoding it', () => {
    expect(() => decodeRecord(new Uint8Array(100_000))).to.throw(/exceeds/).with.property('name', 'InvalidMessageError')
  })
})

describe('cluster key', () => {
  it('accepts 64 hex characters or a key file, and refuses anything else by name', () => {
    const key = generateClusterKey()
    expect(key).to.match(/^[0-9a-f]{64}$/)
    const file = new TextDecoder().decode(clusterKeyFile(key))
    expect(file).to.equal(`/key/swarm/psk/1.0.0/\n/base16/\n${key}`)
    expect(new TextDecoder().decode(clusterKeyFile(file))).to.equal(file)
    expect(() => clusterKeyFile('too short')).to.throw().with.property('name', 'InvalidOptionError')
  })
})
