import { definePool } from '@simplepool/runtime'

/** A pool with no `save`: its state lives only in memory, so only a handoff keeps it. */
export const counter = definePool<{ n: number }, 'inc' | 'get', number>({
  name: 'counter',
  init: () => ({ n: 0 }),
  handle: (s, msg) => msg === 'inc' ? ++s.n : s.n
})
