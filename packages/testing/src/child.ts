import '@simplepool/core/polyfill'
import { toWireError } from '@simplepool/core'
import type { Logger } from '@simplepool/core'
import { CHILD_CONFIG_ENV } from './protocol.js'
import type { ChildConfig, ChildMessage, Request } from './protocol.js'
import { TestNode } from './test-node.js'
import { commands } from './child-commands.js'

/**
 * A node process forked by the harness. It runs a {@link TestNode}, forwards membership
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

const node = new TestNode({
  listen: config.listen,
  bootstrap: config.bootstrap,
  clusterKey: config.clusterKey,
  targets: config.targets,
  ...config.mesh
}, { ...config.transport }, logger)

for (const name of ['member:join', 'member:update', 'member:leave', 'member:down', 'mesh:error'] as const) {
  node.mesh.addEventListener(name, (evt) => {
    const d = evt.detail as { peerId?: string, status?: string, liveness?: string, name?: string, message?: string }
    send({ type: 'event', name, detail: name === 'mesh:error' ? { name: d.name, message: d.message } : { peerId: d.peerId, status: d.status, liveness: d.liveness } })
  })
}

process.on('message', (req: Request) => {
  const fn = commands[req.cmd]
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
  send({ type: 'ready', peerId: node.mesh.peerId, addresses: node.mesh.addresses, startMs: performance.now() - startedAt })
} catch (err) {
  log('ERROR', 'could not start', [err])
  send({ type: 'fatal', error: toWireError(err) })
  process.exit(1)
}
