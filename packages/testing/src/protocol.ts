/**
 * The IPC protocol between the harness (parent) and a node process (child).
 */
import type { AccessRules } from 'simplepool'

/** Configuration a child reads from its environment. */
export interface ChildConfig {
  name: string
  listen?: string[]
  bootstrap?: string[]
  clusterKey?: string
  targets?: Record<string, number>
  mesh?: Record<string, number | string>
  transport?: Record<string, number>
  /** Run a SimplePool node with these pools of the test set (see test-pools.ts). */
  pools?: string[]
  /** Options of the test pools. */
  poolOptions?: Record<string, unknown>
  /** Run a SimplePool node with the pools this module exports (`pools`, or the default export). */
  poolsModule?: string
  /** Runtime options of a SimplePool node. */
  runtime?: Record<string, number>
  /** Serve the admin HTTP API on a free port of 127.0.0.1 (`adminAddress` says which), with this token. */
  admin?: { token?: string }
  /** The node's identity: a key file (see `loadKeyFile`), so that its peer id is known before it starts. */
  keyFile?: string
  /** The node's access rules (`NodeInit.access`). */
  access?: AccessRules
}

/** Parent to child: a request with an id the reply carries back. */
export interface Request {
  id: number
  cmd: string
  args?: Record<string, unknown>
}

/** Child to parent. */
export type ChildMessage =
  | { type: 'ready', peerId: string, addresses: string[], startMs: number }
  | { type: 'reply', id: number, ok: true, result: unknown }
  | { type: 'reply', id: number, ok: false, error: { name: string, message: string } }
  | { type: 'event', name: string, detail: unknown }
  | { type: 'fatal', error: { name: string, message: string } }

/** The environment variable that carries a child's JSON config. */
export const CHILD_CONFIG_ENV = 'SIMPLEPOOL_CHILD_CONFIG'
