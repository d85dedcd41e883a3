import { expect } from 'chai'
import { isLoopback, validateMeshInit } from '../src/mesh-options.js'

describe('mesh options', () => {
  it('tells loopback listen addresses from the rest (wildcards included)', () => {
    for (const a of ['/ip4/127.0.0.1/tcp/0', '/ip4/127.3.2.1/tcp/4001', '/ip6/::1/tcp/0', '/dns4/localhost/tcp/1']) expect(isLoopback(a), a).to.equal(true)
    for (const a of ['/ip4/0.0.0.0/tcp/0', '/ip6/::/tcp/0', '/ip4/10.0.0.2/tcp/4001', '/dns4/node-1.example/tcp/4001']) expect(isLoopback(a), a).to.equal(false)
  })

  it('refuses a heartbeat over a minute by name: the others would wait four of them to mark the node down', () => {
    expect(() => { validateMeshInit({ heartbeatMs: 60_001, suspectAfterMs: 200_000, downAfterMs: 400_000 }) }).to.throw(/heartbeatMs must be at most 60000/).with.property('name', 'InvalidOptionError')
    expect(() => { validateMeshInit({ heartbeatMs: 60_000, suspectAfterMs: 200_000, downAfterMs: 400_000 }) }).not.to.throw()
  })

  it('refuses to listen off loopback without a cluster key, unless told the network is trusted', () => {
    const listen = ['/ip4/127.0.0.1/tcp/0', '/ip4/0.0.0.0/tcp/4001']
    expect(() => { validateMeshInit({ listen }) }).to.throw(/address \/ip4\/0\.0\.0\.0\/tcp\/4001 is not loopback and the node has no clusterKey/)
      .with.property('name', 'InvalidOptionError')
    expect(() => { validateMeshInit({ listen, clusterKey: 'ab'.repeat(32) }) }).not.to.throw()
    expect(() => { validateMeshInit({ listen, insecure: true }) }).not.to.throw()
    expect(() => { validateMeshInit({ listen: ['/ip4/127.0.0.1/tcp/0'] }) }).not.to.throw()
    // a loopback listener announced outside (behind a proxy) is reached from outside
    expect(() => { validateMeshInit({ listen: ['/ip4/127.0.0.1/tcp/0'], announceAddresses: ['/dns4/node-1.example/tcp/4001'] }) }).to.throw(/address \/dns4\/node-1\.example\/tcp\/4001 is not loopback/)
    expect(() => { validateMeshInit({ insecure: 'yes' as unknown as boolean }) }).to.throw(/insecure must be a boolean/)
  })
})
