import '@simplepool/core/polyfill'
import { toWireError } from '@simplepool/core'
import type { Logger } from '@simplepool/core'
import { CHILD_CONFIG_ENV } from './protocol.js'
import type { ChildConfig, ChildMessage, Request } from './protocol.js'
import { pathToFileURL } from 'node:url'
import { SimplePoolNode } from 'simplepool'
import { loadKeyFile } from '@simplepool/mesh'
import type { Pool } from 'simplepool'
import { TestNode } from './test-node.js'
import { commands } from './child-commands.js'
import { nodeCommands, watchWorkerEvents } from './node-commands.js'
import { testPools } from './test-pools.js'

/**
 * A node process forked by the harness. It runs a SimplePool node (with test pools or a
 * user's pools module) or a bare {@link TestNode}, forwards membership
 * events to the parent, answers the parent's requests, and exits when the parent goes
 * away, so no test ever leaves an orphan behind.
 */
const startedAt = performance.now()
const config = JSON.parse(process.env[CHILD_CONFIG_ENV] ?? '{}') as ChildConfig

function send (msg: ChildMessage): void {
  if (process.connected) process.send?.(msg)
}

const logger: Logger = {
  debug: () => {},
  info: (m, ...a) => { log('INFO', m, a) },
  warn: (m, ...a) => { log('WARN', m, a) },
  error: (m, ...a) => { log('ERROR', m, a) }
}

function log (level: string, msg: string, args: unknown[]): void {
  const rest = args.map(a => a instanceof Error ? `${a.name}: ${a.message}` : typeof a === 'string' ? a : JSON.stringify(a)).join(' ')
  process.stderr.write(`${level} [${config.name}] ${msg}${rest.length > 0 ? ' ' + rest : ''}\n`)
}

process.on('disconnect', () => { process.exit(0) })
// a node that threw where nobody catches is broken: die loudly, so the test that caused it fails
process.on('uncaughtException', (err) => {
  log('ERROR', 'uncaught exception', [err])
  send({ type: 'fatal', error: toWireError(err) })
  setTimeout(() => process.exit(70), 20)
})
process.on('unhandledRejection', (err) => { log('ERROR', 'unhandled rejection', [err]) })

/** The node this child runs: a SimplePool node when pools are configured, else a bare mesh + transport. */
const node: TestNode | SimplePoolNode = await makeNode()
const mesh = node.mesh
const table: Record<string, (node: any, args: Record<string, unknown>) => unknown> = node instanceof TestNode ? commands : nodeCommands
if (!(node instanceof TestNode)) {
  watchWorkerEvents(node)
  // when a fence ended, for tests that time isolation and rejoin against cuts and heals
  node.addEventListener('node:fence', (evt) => { send({ type: 'event', name: 'node:fence', detail: evt.detail }) })
  node.addEventListener('access:deny', (evt) => { send({ type: 'event', name: 'access:deny', detail: evt.detail }) })
}

async function makeNode (): Promise<TestNode | SimplePoolNode> {
  const meshInit = { listen: config.listen, bootstrap: config.bootstrap, clusterKey: config.clusterKey, ...config.mesh }
  if (config.pools == null && config.poolsModule == null) {
    return new TestNode({ ...meshInit, targets: config.targets }, { ...config.transport }, logger)
  }
  let pools: Array<Pool<any, any, any>>
  if (config.poolsModule != null) {
    const mod = await import(pathToFileURL(config.poolsModule).href) as { pools?: Array<Pool<any, any, any>>, default?: Array<Pool<any, any, any>> }
    pools = mod.pools ?? mod.default ?? []
  } else {
    const all = testPools(config.poolOptions)
    pools = (config.pools ?? []).map((name) => {
      const p = all[name]
      if (p == null) throw new Error(`no test pool named ${name}`)
      return p
    })
  }
  const admin = config.admin != null ? { port: 0, host: '127.0.0.1', ...config.admin } : undefined
  const identity = config.keyFile != null ? { privateKey: (await loadKeyFile(config.keyFile)).privateKey } : {}
  return new SimplePoolNode({ ...meshInit, ...identity, pools, targets: config.targets, transport: config.transport, runtime: config.runtime, admin, access: config.access, logger })
}

for (const name of ['member:join', 'member:update', 'member:leave', 'member:down', 'mesh:error'] as const) {
  mesh.addEventListener(name, (evt) => {
    const d = evt.detail as { peerId?: string, status?: string, liveness?: string, name?: string, message?: string }
    send({ type: 'event', name, detail: name === 'mesh:error' ? { name: d.name, message: d.message } : { peerId: d.peerId, status: d.status, liveness: d.liveness } })
  })
}

process.on('message', (req: Request) => {
  const fn = table[req.cmd]
  if (fn == null) {
    send({ type: 'reply', id: req.id, ok: false, error: { name: 'UnknownCommandError', message: `unknown command ${req.cmd}` } })
    return
  }
  Promise.resolve()
    .then(async () => fn(node, req.args ?? {}))
    .then(
      (result) => { send({ type: 'reply', id: req.id, ok: true, result }) },
      (err) => { send({ type: 'reply', id: req.id, ok: false, error: toWireError(err) }) }
    )
})

try {
  await node.start()
  send({ type: 'ready', peerId: mesh.peerId, addresses: mesh.addresses, startMs: performance.now() - startedAt })
} catch (err) {
  log('ERROR', 'could not start', [err])
  send({ type: 'fatal', error: toWireError(err) })
  process.exit(1)
}
