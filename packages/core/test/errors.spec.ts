import { expect } from 'chai'
import * as core from '../src/index.js'
import { InvalidMessageError, NodeUnavailableError, TimeoutError, fromWireError, mayHaveArrived, toWireError } from '../src/index.js'

describe('named errors on the wire', () => {
  it('a known error comes back as the same class, name, message and data', () => {
    const back = fromWireError(toWireError(new TimeoutError('call timed out', { peer: 'p1' })))
    expect(back).to.be.instanceOf(TimeoutError)
    expect(back.name).to.equal('TimeoutError')
    expect(back.message).to.equal('call timed out')
    expect((back as TimeoutError).data).to.deep.equal({ peer: 'p1' })
  })

  it("a handler's own error keeps its name", () => {
    const err = new Error('room is full')
    err.name = 'RoomFullError'
    const back = fromWireError(toWireError(err))
    expect(back.name).to.equal('RoomFullError')
    expect(back.message).to.equal('room is full')
  })

  it('anything thrown becomes a wire error, and junk from the wire becomes InvalidMessageError', () => {
    expect(toWireError('just a string')).to.deep.equal({ name: 'Error', message: 'just a string' })
    expect(fromWireError(42).name).to.equal('InvalidMessageError')
    expect(fromWireError(null)).to.be.instanceOf(InvalidMessageError)
    expect(fromWireError({ name: '', message: 5 }).name).to.equal('Error')
  })

  it("an error named like a member of Object's prototype is a handler's error of that name (found by fuzzing)", () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const back = fromWireError({ name, message: 'm' })
      expect(back).to.be.instanceOf(Error)
      expect(back.name).to.equal(name)
      expect(core.isSimplePoolError(name), name).to.equal(false)
    }
  })

  it('every class has a fixed name, the same as its code, that survives the wire', () => {
    const classes = Object.entries(core).filter(([, v]) => typeof v === 'function' && (v as { prototype?: unknown }).prototype instanceof core.SimplePoolError)
    expect(classes.length).to.be.at.least(12)
    for (const [exported, Cls] of classes) {
      const err = new (Cls as new () => Error)()
      expect(err.name, exported).to.equal(exported)
      expect((Cls as unknown as { code: string }).code, exported).to.equal(exported)
      expect(fromWireError(toWireError(err)).name, exported).to.equal(exported)
    }
  })

  it('tells a failure that may have reached its peer (a timeout, a stream closed in flight) from one that did not', () => {
    expect(mayHaveArrived(new TimeoutError('call timed out'))).to.equal(true)
    expect(mayHaveArrived(new NodeUnavailableError('stream to p closed', { peer: 'p', reason: 'closed' }))).to.equal(true)
    expect(mayHaveArrived(fromWireError(toWireError(new NodeUnavailableError('stream to p closed', { reason: 'closed' }))))).to.equal(true)
    expect(mayHaveArrived(new NodeUnavailableError('peer p is down', { peer: 'p' }))).to.equal(false)
    expect(mayHaveArrived(new NodeUnavailableError('p refused', { reason: 'refused' }))).to.equal(false)
    expect(mayHaveArrived(new InvalidMessageError('bad'))).to.equal(false)
    expect(mayHaveArrived(undefined)).to.equal(false)
  })
})
