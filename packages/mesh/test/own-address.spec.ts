import { expect } from 'chai'
import { namesSelf } from '../src/own-address.js'

describe('namesSelf', () => {
  const self = '12D3KooWSelf'
  const own = [`/ip4/127.0.0.1/tcp/4001/p2p/${self}`, `/ip4/10.0.0.5/tcp/4001/p2p/${self}`]

  it('knows its own addresses, with its peer id or without one', () => {
    expect(namesSelf(own[0], self, own)).to.equal(true)
    expect(namesSelf('/ip4/10.0.0.5/tcp/4001', self, own)).to.equal(true)
    expect(namesSelf(`/dns4/anywhere/tcp/9/p2p/${self}`, self, own)).to.equal(true)
  })

  it('takes an address with another peer id for that peer, even at its own host and port (a stale entry is dialled and reported)', () => {
    expect(namesSelf('/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWOther', self, own)).to.equal(false)
    expect(namesSelf('/ip4/127.0.0.1/tcp/4002', self, own)).to.equal(false)
    expect(namesSelf('/dns4/node-1/tcp/4001', self, own)).to.equal(false)
  })
})
