/**
 * The operations runtimes send each other. On the wire every message is an array whose
 * first element is its operation; the rest of its layout belongs to that operation's
 * codec (`worker-messages.ts`, `handoff-messages.ts`, `routing-messages.ts`), never to
 * the code that sends or handles it. Numbers are never reused or renumbered.
 */
export const Op = {
  /** A cast to a worker: {@link CastMessage}. */
  Cast: 1,
  /** A call to a worker: {@link CallMessage} → the handler's reply. */
  Call: 2,
  /** Activate a worker: {@link SpawnMessage} → `{ node, epoch }`. */
  Spawn: 3,
  /** Activate workers: {@link SpawnManyMessage} → how many are live. */
  SpawnMany: 4,
  /** Where a worker lives: {@link WorkerMessage} → `{ node, epoch, ... }` or null. */
  Where: 5,
  /** Stop a worker: {@link WorkerMessage} → true when one was live. */
  Stop: 6,
  /** Workers of a pool on the receiver: {@link CountMessage} → a number. */
  Count: 7,
  /** "I forwarded your message; my ring of that pool is this": {@link HintMessage}. */
  Hint: 8,
  // 9 was a handoff of one worker: every handoff now goes as HandoffMany
  /** "The ring gave me this id: hand it over if you hold it": {@link ClaimMessage} → {@link ClaimAnswer}. */
  Claim: 10,
  /** Take these workers, with their state: {@link HandoffMessage} → {@link HandoffAnswer}. */
  HandoffMany: 11,
  /** "The worker you spilled to me is (not) live here": {@link SpillNoteMessage}. */
  SpillNote: 12,
  /** "Answer when this reaches the worker's mailbox's head": {@link BarrierMessage} → true (a sender's order across a move of its view). */
  Barrier: 13,
  /** Keep these workers' state as their replica: {@link ReplicaPutMessage} → {@link ReplicaPutAnswer}. */
  ReplicaPut: 14,
  /** Drop these workers' replicas (passivated, stopped, or this node is no successor now): {@link ReplicaDropMessage}. */
  ReplicaDrop: 15,
  /** "Do you keep a replica of this worker?": {@link ReplicaGetMessage} → {@link ReplicaGetAnswer}. */
  ReplicaGet: 16
} as const

/** Operations from 100 up belong to the node around the runtime (targets, health, drains). */
export const FIRST_NODE_OP = 100

/** The largest id (or pool name) accepted, in UTF-16 code units. */
export const MAX_ID_LENGTH = 1024
