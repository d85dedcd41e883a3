import type { TestNode } from './test-node.js'

/** Requests a harness child answers for benchmarks: floods and timed call loops. */
export const benchCommands: Record<string, (node: TestNode, args: Record<string, unknown>) => unknown> = {}
