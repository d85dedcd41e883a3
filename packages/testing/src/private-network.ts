import { execFileSync, spawnSync } from 'node:child_process'

/**
 * A private IPv4 network of Linux network namespaces for partition tests: one namespace
 * per node, each with a veth whose other end is a port of a bridge that lives in a
 * namespace of its own. Nothing is added to the namespace the tests run in, so the
 * addresses (10.213.0.0/24) never meet the machine's own, and two runs at once do not
 * see each other (namespaces are named by the process id, and a run's leftovers are
 * swept by the next one once that process is gone: runs in separate PID namespaces that
 * share `/run/netns` would need their own prefix).
 *
 * A partition moves bridge ports onto other bridges: frames between groups are dropped
 * silently, as by a switch that lost a link (no reset, no ICMP; a dial times out, an open
 * connection's writes go unanswered until the neighbour entry fails), and a heal moves
 * them back. Needs root and iproute2; {@link PrivateNetwork.unavailable} says why not.
 */
export class PrivateNetwork {
  /** The namespace of node `k`, to run its process in. */
  readonly namespaces: string[]
  private readonly prefix: string
  private readonly bridgeNs: string
  private bridges = 1
  private destroyed = false

  private constructor (readonly size: number) {
    this.prefix = `sp${process.pid}x${(Math.random() * 1e6 | 0).toString(36)}`
    this.bridgeNs = `${this.prefix}-sw`
    this.namespaces = Array.from({ length: size }, (_, k) => `${this.prefix}-${k}`)
  }

  /** Why namespaces cannot be made here (not root, no `ip`, no kernel support), or undefined when they can. */
  static unavailable (): string | undefined {
    if (process.platform !== 'linux') return 'network namespaces are Linux only'
    if (process.getuid?.() !== 0) return 'network namespaces need root'
    // named as a network's namespaces are, so that a run killed in between has it swept
    const name = `sp${process.pid}x0-probe`
    const made = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' })
    if (made.error != null) return `iproute2 is not installed (${made.error.message})`
    if (made.status !== 0) return `ip netns add failed: ${made.stderr.trim()}`
    spawnSync('ip', ['netns', 'del', name])
    return undefined
  }

  /** Builds a network of `size` nodes, all on one bridge. Always `destroy()` it; an exit hook does so if the run dies first. */
  static create (size: number): PrivateNetwork {
    sweepOrphans()
    const net = new PrivateNetwork(size)
    made.add(net)
    installExitHook()
    try {
      net.build()
    } catch (err) {
      net.destroy()
      throw err
    }
    return net
  }

  /** Node `k`'s address. */
  address (k: number): string {
    return `10.213.0.${k + 1}`
  }

  /** Node `k`'s libp2p listen address on a free port. */
  listen (k: number): string {
    return `/ip4/${this.address(k)}/tcp/0`
  }

  /**
   * Cuts the network into the given groups of nodes: each group on a bridge of its own
   * (a node named moves there from wherever it was; a node not named stays where it is,
   * with the rest after a {@link heal}). Frames cross no bridge's border.
   */
  split (groups: number[][]): void {
    groups.forEach((group, g) => {
      const bridge = this.bridge(g + 1)
      for (const k of group) this.ip('link', 'set', `p${k}`, 'master', bridge)
    })
  }

  /** Puts every node back on the one bridge. */
  heal (): void {
    for (let k = 0; k < this.size; k++) this.ip('link', 'set', `p${k}`, 'master', 'b0')
  }

  /** Deletes every namespace this network made (their processes lose their links, not their lives). */
  destroy (): void {
    if (this.destroyed) return
    this.destroyed = true
    made.delete(this)
    for (const ns of [...this.namespaces, this.bridgeNs]) spawnSync('ip', ['netns', 'del', ns])
  }

  private build (): void {
    run('ip', 'netns', 'add', this.bridgeNs)
    this.ip('link', 'add', 'b0', 'type', 'bridge')
    this.ip('link', 'set', 'b0', 'up')
    this.namespaces.forEach((ns, k) => {
      run('ip', 'netns', 'add', ns)
      // made inside the switch's namespace with its peer end straight in the node's: no
      // interface ever appears in the namespace the tests run in
      this.ip('link', 'add', `p${k}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
      this.ip('link', 'set', `p${k}`, 'master', 'b0', 'up')
      run('ip', '-n', ns, 'link', 'set', 'lo', 'up')
      run('ip', '-n', ns, 'addr', 'add', `${this.address(k)}/24`, 'dev', 'eth0')
      run('ip', '-n', ns, 'link', 'set', 'eth0', 'up')
    })
  }

  /** Bridge `g` of the switch, made on first use. */
  private bridge (g: number): string {
    for (; this.bridges <= g; this.bridges++) {
      this.ip('link', 'add', `b${this.bridges}`, 'type', 'bridge')
      this.ip('link', 'set', `b${this.bridges}`, 'up')
    }
    return `b${g}`
  }

  private ip (...args: string[]): void {
    run('ip', '-n', this.bridgeNs, ...args)
  }
}

const made = new Set<PrivateNetwork>()
let hooked = false

function installExitHook (): void {
  if (hooked) return
  hooked = true
  process.once('exit', () => { for (const net of [...made]) net.destroy() })
}

function run (cmd: string, ...args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Deletes the namespaces of runs whose process is gone (killed before its exit hook ran). */
function sweepOrphans (): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? ''
  for (const line of list.split('\n')) {
    const m = /^(sp(\d+)x[0-9a-z]+-[0-9a-z]+)/.exec(line)
    if (m == null || alive(Number(m[2]))) continue
    spawnSync('ip', ['netns', 'del', m[1]])
  }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
