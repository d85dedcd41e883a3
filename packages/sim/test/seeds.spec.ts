import { expect } from 'chai'
import { runScenario } from '../src/scenario/scenario.js'
import type { ScenarioOptions, ScenarioResult } from '../src/scenario/scenario.js'

/**
 * Seeds that found a bug, each kept as it found it: the run must stay clean. (The bug is
 * in the commit that fixed it; `npm run sim -- --seed S --trace` replays it.)
 */
const REGRESSIONS: Array<{ seed: number, found: string }> = [
  { seed: 11, found: 'graceful-keeps-memory: a drain emptied the ring, the undrained node started a fresh copy without asking the node that still held the worker, whose handoff then lost to the fresh copy\'s larger epoch' },
  { seed: 1009, found: 'graceful-keeps-memory: two ring changes within one handoff delay, and the claim asked only the owner before the last one' },
  { seed: 1014, found: 'graceful-keeps-memory: as seed 1009' },
  { seed: 10, found: 'graceful-keeps-memory: as seed 1009' },
  { seed: 2, found: 'one-live-copy: a node whose wall clock stepped back started a worker below the epoch of the copy it had handed on, which had since died' },
  { seed: 5, found: 'per-sender-order: a call that had already failed at its caller (the node was marked down while paused) was read at the resume and forwarded, running after the caller\'s later calls' },
  { seed: 26, found: 'acknowledged-writes-durable: a handoff read at the resume of a node marked down while paused was taken in; its stale state, under a newer epoch, overwrote acknowledged writes' },
  { seed: 14, found: 'one-live-copy: a claim that took nothing while the ring moved on started a second copy below the live one\'s epoch' },
  { seed: 21, found: 'one-live-copy: as seed 14' },
  { seed: 34, found: 'one-live-copy: as seed 14' },
  { seed: 33, found: 'per-sender-order: the new owner ran a message that came straight to it before an earlier one the node it claimed from sent on' },
  { seed: 15, found: 'graceful-keeps-memory: a handoff refused by a node back from a stall was never tried again, and a later claim missed the holder' },
  { seed: 85, found: 'graceful-keeps-memory: a claimer gave up as the ring moved on while the holder kept the worker; the next owner asked only the claimer and started fresh' },
  { seed: 3, found: 'per-sender-order: a node that was itself claiming held a sender\'s message until its claim timed out, then sent it on as a direct one, behind the sender\'s later message' },
  { seed: 165, found: 'per-sender-order: a busy holder, claimed, ran a message that came after the claim before handing the worker over' },
  { seed: 217, found: 'graceful-keeps-memory: a node back from a pause claimed from the old owner, which had handed the worker on meanwhile and answered none; the new copy started fresh' },
  { seed: 159, found: 'graceful-keeps-memory: an undrain during a stop put the stopping node back on the rings; the stop then ran out its deadline and dropped the workers that came back' },
  { seed: 30482, found: 'graceful-keeps-memory: a claim\'s history of placements was shared by all pools, and five target changes of another pool pushed out the one naming the holder (graceful.spec)' },
  { seed: 50111, found: 'per-sender-order: a node back from a stall asked only the members it saw up whether they marked it down; the one that had, seen down since before the stall, was not asked (fencing.spec)' },
  { seed: 11218, found: 'graceful-keeps-memory: a claim passed on to a holder known only to a departed node' },
  { seed: 52, found: 'graceful-keeps-memory: a claim skipped the owner before the last ring change because its heartbeat count, sent before the handoff reached it, said 0' },
  { seed: 2024, found: 'graceful-keeps-memory: a stop took itself for the last node serving while another node was still joining (up 18 ms later), and ended its unsaved workers' },
  { seed: 2317, found: 'graceful-keeps-memory: a node back from a pause read six ring changes at once, which pushed the placement in which the holder owned the worker out of the claim history; the new owner started fresh and the holder\'s handoff lost to its larger epoch' },
  { seed: 2101, found: 'per-sender-order: the ring moved back to a busy holder while a node claimed from it; what waited on the claimer went back only when the claim answered, behind what the same senders had sent the holder since' },
  { seed: 2562, found: 'per-sender-order: as seed 2101 (a joined node\'s target set to 0 while it claimed)' },
  { seed: 2564, found: 'per-sender-order: as seed 2101 (the holder\'s drain undone)' },
  { seed: 2942, found: 'per-sender-order: as seed 2101 (the claimer drained; the holder then handed the worker to a third node)' },
  { seed: 2796, found: 'one-live-copy: a node that had just come up started a worker another had started a moment before it heard of it; the other\'s count, a heartbeat old, said none, so no claim asked it' },
  { seed: 3186, found: 'graceful-keeps-memory (the checks): a stop began with no other node serving the pool, and one was undrained a moment before it ended; its workers had nowhere to go when it looked' },
  { seed: 3097, found: 'per-sender-order: a node back from a pause past the down deadline sent to its own copy, then stopped; that message reached the new owner after a later one sent there straight' },
  { seed: 3135, found: 'per-sender-order: as seed 3097' },
  { seed: 3241, found: 'per-sender-order: a sender\'s ring moved to a node and back within a second; the message sent on the way round ran after the next one' },
  { seed: 4262, found: 'per-sender-order: a call that waited on a claim before a pause past the down deadline was sent on to the new owner when the claim answered at the resume, while the node fenced; it ran there after the caller\'s next call (it had already failed at its caller)' },
  { seed: 5837, found: 'per-sender-order: a node back from a short pause, still fencing, held a call for a worker and answered a claim for it none at once; the claimer started it and ran the sender\'s next message before the call the node sent on once the fence ended (seed 5513 found it first)' },
  { seed: 5626, found: 'per-sender-order: as seed 5837, the fencing holder answering mine: the claimer gave up (its ring moved on) and sent its message to the next owner before the holder sent on the earlier one it held' },
  { seed: 5806, found: 'per-sender-order: a holder whose ring moved sent a call on to the new owner at once while earlier messages of the same sender waited in its busy copy\'s mailbox (they followed the handoff, behind it)' },
  { seed: 5887, found: 'graceful-keeps-memory: a node joined while a member holding workers stood still short of the suspicion deadline; it never heard of that member, finished its join and started them fresh; and asked by that member back from its stall, it answered that it had marked it down, which made it drop every worker' },
  { seed: 5143, found: 'per-sender-order: a holder back from a short pause read a sender\'s two calls on two views and sent them on by two paths, through a third node and straight (it no longer fails since joins wait to hear every member; a gap the README listed then, a sender\'s order across a move of its own view, closed since by its barriers)' },
  { seed: 5513, found: 'per-sender-order: a claim answered none while fencing (fixed, see 5837), then a call sent on to the owner a stale view named (it no longer fails since joins wait to hear every member; a gap the README listed then, a sender\'s order across a move of its own view, closed since by its barriers)' },
  { seed: 5722, found: 'per-sender-order: a node back from a pause (not marked down) that held no copy answered a claim \'none\' while it fenced; the claimer started and ran the sender\'s later calls, then the call the node had read at the resume came on behind them' },
  { seed: 11222, found: 'graceful-keeps-memory (a checker mistake): the only other node serving the pool was marked down while a stop handed its workers there; they stayed and ended with the stop, as designed, and the checker still counted that node as serving' },
  { seed: 11770, found: 'graceful-keeps-memory: a worker busy with a long turn as two joins moved its owner twice was never handed to the first new owner; the second claimed only from the first, which had nothing, and started a fresh copy' },
  { seed: 20955, found: 'acknowledged-writes-durable: an older copy, taking turns while the views disagreed, wrote an increment the store took, since the newer copy had only read its row; the newer copy, handed on, then held one less (the ledger\'s load now claims the row for its epoch)' },
  { seed: 10379, found: 'graceful-keeps-memory: a stopping node passed a claim on to the node it had handed the worker to (busy in a turn) and announced leaving before the answer; the claimer dropped its call, read none, and started the worker afresh' },
  { seed: 60025, found: 'the simulator itself: the fault plan stopped three nodes at once, counting those still stopping as staying, and then had no node to act on' },
  { seed: 30618, found: 'per-sender-order (ledger/51), not diagnosed: clean since the claim history went per pool (seed 30482), which may only have moved its schedule' },
  { seed: 31416, found: 'graceful-keeps-memory (counter/55 held 23 of 29), not diagnosed: clean since the claim history went per pool (seed 30482), which may only have moved its schedule' },
  { seed: 50236, found: 'per-sender-order: the sender\'s view moved (an undrain) while its earlier message waited in a node that stood still a second, the owner before; the later one, sent straight to the new owner, ran first (fixed by barriers down the route before; order.spec.ts)' },
  { seed: 60662, found: 'per-sender-order: as seed 50236' },
  { seed: 20663, found: 'per-sender-order: of the kind of seed 50236, not diagnosed one by one' },
  { seed: 60235, found: 'per-sender-order: two nodes whose views disagreed for a moment bounced a call between them while a cast sent after it went straight on, and ran first' },
  ...[80050, 80063, 80097, 80443, 81877, 83557, 84354, 84896, 84988, 85248, 85590, 85997].map(seed => ({ seed, found: 'per-sender-order: found by --seeds 6000 --from 80000, of the kinds of seeds 50236 and 60235, not diagnosed one by one' })),
  { seed: 90220, found: 'per-sender-order: a barrier reached a holder back from a stall between two calls it sent on and a cast of the same sender; the cast, behind the barrier, stayed with the worker there and ran first' },
  { seed: 91182, found: 'graceful-keeps-memory: four ring changes pushed the placement naming the holder (whose handoff had failed) out of a claim\'s history; the new owner started fresh' },
  { seed: 91698, found: 'graceful-keeps-memory: a node back from a stall, marked down, kept a worker it started while it asked, claimed from a view from before the stall; the node that took the worker meanwhile lost its handoff to that copy; then (per-sender-order) a node stood still again while its fence asked, and the fence ended on the first answers, before it read what had come during the second stall' },
  { seed: 92927, found: 'per-sender-order (the simulator): a drain was asked of a node standing still and ran in the middle of its stall; its fence ended before the node read what the kernel kept for it' },
  { seed: 30623, found: 'one-live-copy (the checks): a node whose clock ran ahead was killed before its record carried its epoch mark; the next copy elsewhere ranked below the dead one, which took no turn again (the README\'s note on clocks)' },
  { seed: 93423, found: 'one-live-copy (the checks): as seed 30623' },
  { seed: 92138, found: 'one-live-copy (the checks): as seed 30623' },
  { seed: 94048, found: 'per-sender-order (counter/26), not diagnosed: clean since the simulator runs an operation asked of a standing node at its resume (seed 92927)' },
  { seed: 95313, found: 'graceful-keeps-memory: a restore set every pool\'s target in turn; a change of another pool a moment before marked the placement naming the busy holder fleeting, and it went first from the claim history; the new owner started fresh' },
  { seed: 102139, found: 'one-live-copy: two nodes whose views disagreed as the cluster came up each took itself for the owner; the one that claimed first found nothing and started the worker, and the other started it too' },
  { seed: 110564, found: 'per-sender-order (the simulator): a paused caller\'s call timed out during the pause; what that set off ran on the standing node, tripped its stall guard, and its fence was over before it read what had come for it meanwhile' },
  { seed: 110509, found: 'per-sender-order (the simulator): as seed 110564, a call failed during the pause because its peer stopped' },
  { seed: 121306, found: 'graceful-keeps-memory: a holder busy in a long turn, then with no node serving the pool to hand to, answered every claim mine; the claimer gave up after its attempts and started a fresh copy, whose larger epoch won the holder\'s handoff later' },
  { seed: 120233, found: 'graceful-keeps-memory: as the cluster came up, a node started a worker another had started a moment before its view named that one; it had no placement before to ask by, and the counts were older than the first worker' },
  { seed: 121916, found: 'graceful-keeps-memory (counter/83), not diagnosed: clean since a node that has just started asks every member (seed 120233)' },
  { seed: 122901, found: 'per-sender-order (counter/98, message 1), not diagnosed: clean since a node that has just started asks every member (seed 120233)' },
  { seed: 97630, found: 'per-sender-order: a node back from a stall that nobody needed asking about ended its fence before it read what the kernel kept for it; a call its caller was told had failed ran late' },
  { seed: 132253, found: 'per-sender-order: a stopping node back from a short stall sent a sender\'s two calls on to the new owner; the first arrived before the new owner\'s view named it and was sent back (and on again), the second after, and ran first' },
  { seed: 142954, found: 'per-sender-order: the first cut of the fix for seed 132253 held a message at a stopping node that still held its worker, whose view was right; the worker was handed on meanwhile, and the message, sent on at last, ran behind the sender\'s next one' },
  ...[140147, 140560, 141314, 142633].map(seed => ({ seed, found: 'per-sender-order: as seed 142954 (found by --seeds 3000 --from 140000 on the first cut of the fix for seed 132253)' })),
  { seed: 150145, found: 'whole-again (every-call-ends): the lease on a majority, first cut: of two hosts, the younger lost its lease while the older stood still, and waited for it for good once it was killed (a refused redial now proves a member gone)' },
  { seed: 150849, found: 'per-sender-order: the lease on a majority, first cut: a barrier read by a node cut off from a majority failed, and the cast it held went ahead of one waiting there for the fence' },
  { seed: 151715, found: 'per-sender-order: a node that had drained itself (its view was the right one) held a call sent back to it by a node whose view was behind, waiting for its own view to move, and the sender\'s next message overtook it' },
  { seed: 152225, found: 'per-sender-order (counter/79), not diagnosed: a node drained itself a moment after a local call as the cluster came up, and its next call, sent to the new owner, ran first; clean since a node that owned a worker lately sends a message back at once (seed 151715)' },
  { seed: 156932, found: 'acknowledged-writes-durable: a node back from a stall, marked down, started a worker from the store while another node, which had started it meanwhile on a view this node never had, held it; that copy, behind the store, was handed on later with a newer epoch (a node back from being marked down now asks every member, as one just started)' },
  { seed: 154201, found: 'graceful-keeps-memory (the checks): a stop during which one node drained and another began to serve the pool a moment before its end counted the pool as served throughout; no node served it throughout, and the stopping node\'s workers of it ended as documented' },
  ...[160056, 160509].map(seed => ({ seed, found: 'graceful-keeps-memory: the first cut of marking a host down only once it cannot hold its lease kept the only host suspect for good while it stood still; a node that joined meanwhile never heard of it and started its workers afresh (found by --seeds 1200 --from 160000; the only host is now marked down as before)' })),
  ...[160113, 160157, 161142].map(seed => ({ seed, found: 'per-sender-order: found by --seeds 1200 --from 160000 on the first cut of marking a host down only once it cannot hold its lease; clean since a barrier that goes unanswered fails what it held instead of letting it overtake (seed 184)' })),
  { seed: 171519, found: 'per-sender-order (ledger/34): found by --seeds 2000 --from 170000 at the commit that drew splits; clean since the review\'s fixes (an unanswered barrier\'s route is not passed), not diagnosed one by one' },
  { seed: 160844, found: 'per-sender-order: found by --seeds 2000 --from 160000 on the second cut of marking a host down only once it cannot hold its lease: nodes that joined while a host stood still counted as vouching for it (they had never heard of it), so it stayed in the ring and a call waited there past the sender\'s next one (records now say whom their node hears)' },
  { seed: 161289, found: 'graceful-keeps-memory: as seed 160844; a node that joined while the only host stood still made it one of two, the older, kept; the joiner, which had never heard of it, started its worker afresh (a host that joined after a member fell silent is left out of that member\'s base)' },
  { seed: 161078, found: 'one-live-copy (ticker/81): found by --seeds 1200 --from 160000 on the first cut of marking a host down only once it cannot hold its lease; not diagnosed one by one, clean since the only host is marked down as before (seed 69)' },
  { seed: 181115, found: 'graceful-keeps-memory: a node joined while a host stood still (the host kept its lease by the tie with the only other member, so nobody marked it down); the joiner never heard of it and started one of its workers afresh, which outranked the host\'s copy when they met (a node now waits for a member the others doubt and did not mark down, never heard here, before it starts any worker: NodeUnavailableError meanwhile)' },
  { seed: 300101, found: 'per-sender-order: a node sent a cast on down a route that an older cast had taken (routes were kept for sending on for ORDER_SENT_MS, 30 s); that node sent it back after a wait for its view, and the sender\'s next call, which came straight, ran first (a route is kept for sending on only within ORDER_WINDOW_MS after a cast)' },
  { seed: 301450, found: 'per-sender-order: a call reached a node that stood still past the down deadline and ran there after its fence, once the worker was handed back to it, behind the sender\'s later calls. Not diagnosed further; clean since a barrier down a route before waits 4 s (ORDER_BARRIER_TIMEOUT_MS), which moved its schedule: the bug it showed may remain' }
]

/**
 * Seeds that found a bug with network partitions drawn too (`--partitions`), each kept as
 * it found it.
 */
const PARTITION_REGRESSIONS: Array<{ seed: number, found: string, splits?: boolean }> = [
  { seed: 80, found: 'acknowledged-writes-durable: a node cut off one way (it could not send) heard a majority and so kept its lease, while the others marked it down and served its workers (records now name the members their node doubts)' },
  { seed: 28, found: 'bounded-memory: a node that lost its lease waited for a member that had left gracefully meanwhile, and stayed cut off for good (a member gone leaves the frozen base)' },
  { seed: 36, found: 'acknowledged-writes-durable: two hosts split one way; the younger, cut off, marked the older down, gave up a handoff whose answer was lost and kept the worker; back, nobody had marked it down, and its stale copy lived on (a node that marked members down while isolated now drops its copies)' },
  { seed: 197, found: 'every-call-ends: with partitions, not diagnosed one by one (found by --seeds 200 --from 1 --partitions on the first cut of the lease)' },
  { seed: 409, found: 'whole-again: a node cut off kept waiting for a member of its frozen base that had stopped on the other side of the cut; nobody dialed it again, so nothing proved it gone (members marked down are now dialed again until forgotten)' },
  { seed: 381, found: 'acknowledged-writes-durable: a link cut between two nodes that both heard a majority; one marked the other down on its own and started a worker the other still served (a host is now marked down only once hosts that doubt it leave it no majority); also a pause inside the cut served past the others\' deadline (the lease gives a late beat no grace)' },
  { seed: 442, found: 'per-sender-order: with partitions, not diagnosed one by one; clean since a host is marked down only once it cannot hold its lease (seed 381)' },
  { seed: 69, found: 'graceful-keeps-memory: the first cut of the fix for seed 381 never marked the only host down while it stood still; nodes that joined meanwhile started its workers afresh (the only host is marked down on its deadline, as before)' },
  { seed: 95, found: 'acknowledged-writes-durable: a handoff reached a node cut off one way (it could not answer), which served the worker and wrote through to the store; the sender, unanswered, resumed its copy, behind the store (a pool with `load` now drops its copies after an unanswered handoff: the store holds their state)' },
  { seed: 527, found: 'acknowledged-writes-durable: as seed 95, the sender told "peer is down" with the handoff in flight' },
  { seed: 184, found: 'per-sender-order: a barrier sent down the route before followed the worker in a handoff to a node that could not answer; it timed out and the cast it held overtook the one ahead of it (an unanswered barrier now fails what it held)' },
  { seed: 450, found: 'per-sender-order: a cast waited in a claim on a node whose claim took 11 s; the sender\'s barrier went unanswered and its next call overtook the cast (as seed 184)' },
  { seed: 130, splits: true, found: 'acknowledged-writes-durable, with splits drawn: a member joining when a cut came became up on one side; the other side, which counted only members up, held a majority of a base without it while the first held a tie with the oldest; both served (every member but one leaving counts now)' },
  { seed: 581, found: 'per-sender-order: with partitions, not diagnosed one by one; clean since an unanswered barrier fails what it held (seed 184)' },
  { seed: 654, splits: true, found: 'acknowledged-writes-durable, with splits drawn: a copy handed during a flapping cut reached its receiver 5.7 s late, when another node had started the worker from the store and acknowledged a write; the receiver gave the late copy a fresh epoch from its clock, so it outranked the newer copy when they met (a handed copy now keeps its epoch plus one: it ranks by when its state came from the store, then by its moves)' },
  { seed: 1277, splits: true, found: 'acknowledged-writes-durable, with splits drawn: as seed 654' },
  { seed: 813, splits: true, found: 'graceful-keeps-memory, with splits drawn: as seed 181115, a node joined while the holder stood still' },
  { seed: 165, splits: true, found: 'acknowledged-writes-durable, with splits drawn (found by the first cut of the fix for seed 654, which gave every handed copy its epoch plus one): a node joined while another, back from being marked down, had its workers on the next node; the joiner claimed from its owner before (the node back) alone, which had no copy and said so, and started a second copy. A node back from being marked down now passes such a claim on to the next node on its ring. The first cut also showed that a pool without a store must not rank a copy started from init above one with memory (seed 465): only pools with load keep the epoch plus one' },
  { seed: 465, splits: true, found: 'graceful-keeps-memory, with splits drawn: see seed 165' },
  { seed: 944, splits: true, found: 'per-sender-order, with splits drawn: a call waited in the mailbox of a worker being handed on for 5 s, past the window in which a later message to the worker, sent to its new owner, waits for a barrier down the route before (a call sent within the window now holds later messages sent elsewhere until it is answered)' },
  { seed: 417, splits: true, found: 'per-sender-order, with splits drawn: a cast waited 9.5 s in the mailbox of a worker whose handoff was tried again across a cut; the sender had sent nothing else to that node for longer than the window, and sent its next cast to the new owner with no barrier (a route before now counts as used for ORDER_SENT_MS, 30 s)' },
  { seed: 261, splits: true, found: 'per-sender-order, with splits drawn: not diagnosed one by one; clean since seeds 944 and 417' },
  { seed: 383, splits: true, found: 'per-sender-order, with splits drawn: as seed 261' },
  { seed: 1252, splits: true, found: 'per-sender-order, with splits drawn: as seed 261' },
  { seed: 1330, splits: true, found: 'per-sender-order, with splits drawn: as seed 261' },
  { seed: 1066, splits: true, found: 'graceful-keeps-memory, with splits drawn: not diagnosed one by one; clean since seeds 165 and 181115' },
  { seed: 280, splits: true, found: 'one-live-copy, with splits drawn: halves of three and three; one side marked a member down (silent since a one-way cut just before) while it still counted the other half as heard, dropped it from its base and held a majority of the five left, while that member counted on the other side, which held the tie with the oldest: both served (a member marked down no longer leaves the base at once; see seed 65)' },
  { seed: 996, splits: true, found: 'per-sender-order, with splits drawn: a cast waited for the fence of a node cut off from a majority (it forwarded the worker\'s messages), then went on, past its sender\'s next message sent straight to the new owner once the window was over; and a route whose barrier went unanswered was forgotten with the window (a node cut off now drops casts at once, as it refuses calls, and refuses a barrier at once unless messages wait there for the worker; a route whose barrier went unanswered is asked again until a barrier passes or its node is gone)' },
  { seed: 113, splits: true, found: 'per-sender-order, with splits drawn: not diagnosed one by one; clean since seed 996' },
  { seed: 881, splits: true, found: 'per-sender-order, with splits drawn: as seed 113' },
  { seed: 65, splits: true, found: 'acknowledged-writes-durable, with splits drawn: two cuts overlapped so that one node was heard on both sides; the small side held three of five through it, while the other side, whose view had marked one of those three down and dropped it from the silent host\'s base, found the host a tie it could not hold, marked it down and placed its workers (a member marked down now stays in the base of the lease and of the view\'s judgement of a silent host until it is known gone or forgotten; this replaces the first cut of the fix for seed 280)' },
  { seed: 1668, splits: true, found: 'acknowledged-writes-durable, with splits drawn: not diagnosed one by one; clean since seed 65' },
  { seed: 986, splits: true, found: 'one-live-copy, with splits drawn: a node handed a worker to the node its view named the owner, whose own view named another, which it had just handed its own copy to; the worker stayed where it came, as nothing moved the ring again, and two copies lived on (a worker taken in by a node that does not own it in its view now goes on to its owner once the ring settled, where the copies meet)' },
  { seed: 397, splits: true, found: 'per-sender-order, with splits drawn (a drain undone while a claim waited): not diagnosed one by one; clean since seed 986' },
  { seed: 808, splits: true, found: 'per-sender-order, with splits drawn: as seed 397' },
  { seed: 127, splits: true, found: 'per-sender-order, with splits drawn: a cast waited 8 s in a claim on the owner before (cut off one way meanwhile); the sender\'s next message went to the new owner once the window was over, with no barrier (a cast sent within the window now keeps its worker\'s route for ORDER_SENT_MS, as an unanswered call does)' },
  { seed: 446, splits: true, found: 'per-sender-order, with splits drawn: not diagnosed one by one; clean since seed 986' },
  { seed: 1168, splits: true, found: 'acknowledged-writes-durable, with splits drawn: as seed 446' },
  { seed: 620, splits: true, found: 'per-sender-order, with splits drawn: a node sent a call on to the owner it saw, its view moved, and it sent the same sender\'s barrier straight to the new owner, past the call on its way through the owner before (a node that sends messages on now keeps their order as its own sends do: down the route it sent the worker\'s messages on before, while one may be on its way there)' },
  { seed: 3344, splits: true, found: 'per-sender-order, with splits drawn: a barrier reached a node where its sender\'s cast and call waited for the worker, and went on to the new owner because another sender\'s message had gone there, passing at once (a message now stays behind what its own sender left waiting here)' },
  { seed: 19438, splits: true, found: 'acknowledged-writes-durable, with splits drawn: a split {n2, n5, n6} | {n1, n3, n7} while n8 joined, heard by both sides; n7 held its lease through n1, n3 and n8, while n5\'s view judged that n3 could not vouch for n7 by a record of n3\'s from before n7 joined (n3 had been cut off since), marked n7 down and started its worker a second time (a member this view no longer hears may vouch for a silent host now, whatever its last record said)' },
  { seed: 4156, splits: true, found: 'per-sender-order, with splits drawn: a drain while two nodes each had a claiming activation of the worker: each answered the other\'s claim by sending what waited to it, the other sent it straight back, a dozen times a second, and a barrier came apart from what it followed (a claiming activation now sends what waits only to a claimer that owns the worker in its view). Seed 20 showed the same and is clean since' },
  { seed: 20, splits: true, found: 'per-sender-order, with splits drawn: as seed 4156, a drain then an undrain' },
  { seed: 4186, splits: true, found: 'per-sender-order, with splits drawn: a cast waited 9 s in a claim; the claimer\'s view moved and it sent what waited on to the next claimer; its sender\'s barrier went unanswered, and the one it sent again down the same route was sent on by that node straight to the owner now, past the cast (what a node sends on from a claim or after a handoff now keeps its route, as what it forwards does)' },
  { seed: 4660, splits: true, found: 'per-sender-order, with splits drawn: a node that was stopping sent a cast and a call to the owner it saw, which was handing the worker to that very node and sent them back; there they waited for the node\'s view, and its next call went straight to the owner and ran first (a send now waits behind its node\'s messages to the worker that wait for its view)' },
  { seed: 4370, splits: true, found: 'acknowledged-writes-durable, with splits drawn: a host cut off one way (it could not send) heard a node join meanwhile and held a tie with the oldest through it; the others left the joiner out of its base, marked it down and started its worker from the store; a claim took the old copy from it afterwards, whose every write the store refused (a joiner that hears a silent host now stays in its base and vouches for it)' },
  { seed: 5168, splits: true, found: 'acknowledged-writes-durable, with splits drawn: as seed 4370, a node that joined during a split heard both sides' },
  { seed: 5093, splits: true, found: 'per-sender-order, with splits drawn: not diagnosed one by one; clean since seeds 4186 and 4660' },
  { seed: 5498, splits: true, found: 'per-sender-order, with splits drawn: as seed 5093' },
  { seed: 7283, splits: true, found: 'whole-again, a fault of the simulator itself: a target set to 0 and an undrain that failed ended after the cluster was put back in service at the end, and nobody served the pool (the restore now waits for the operations under way)' },
  { seed: 150, splits: true, found: 'one-live-copy, with splits drawn, a false alarm of the check: a handoff of a pool without a store went unanswered (the receiver could not send) and the worker resumed on the sender; the receiver, marked down, dropped its copy, and the sender\'s lived on below that copy\'s epoch, one copy at a time (the check now lets a copy below the epoch of one dropped by a fence take turns after the drop)' },
  { seed: 10896, splits: true, found: 'per-sender-order, with splits drawn (ledger/12): not diagnosed one by one; clean since a barrier down a route before waits 4 s (ORDER_BARRIER_TIMEOUT_MS), which moved its schedule: the bug it showed may remain' },
  { seed: 11876, splits: true, found: 'per-sender-order, with splits drawn (counter/61): as seed 10896' },
  { seed: 10164, splits: true, found: 'acknowledged-writes-durable, with splits drawn (ledger/10): a node joined while a member stood still (it never heard it: a node hears of another from its own records), took a worker by handoff, and on an even split counted a majority of a base without that member, while the other half, which held it and the oldest, served too; the store refused the joiner\'s writes, and its copy outlived the other (a member the others doubt or marked down and this view never heard is now in the base, never heard and taken for the oldest)' },
  { seed: 11252, splits: true, found: 'bounded-memory, with splits drawn (found by the first cut of the fix for seed 10164): a node that joined counted in its base members a cut-off node\'s record still named (two had left, one was killed), lost its lease at once, and its frozen base kept them for good (a member known only by name now stays in a frozen base only while a record names it; records of members marked down here count, so a cut does not shrink it)' },
  { seed: 15350, splits: true, found: 'graceful-keeps-memory, with splits drawn (counter/17): a node joined while a split cut it off from the only two members (both draining), served alone as a cluster of one, started the worker afresh, and its copy outranked the drained one when they met (a node given bootstrap addresses now serves nothing until it hears a member: JoinTimeoutError)' },
  { seed: 14255, splits: true, found: 'acknowledged-writes-durable, with splits drawn (ledger/59): a drain handed the worker to a node cut off one way, which took it and wrote three turns while its answer was lost; the sender sent the same message again 11.5 s after the first (it had waited out a timeout and a fence), by when the receiver had been marked down, dropped its copy and forgotten the handoff, and took the old state anew under the same epoch, which the store let overwrite the newer rows (a resend is now taken only by a node that remembers taking it; another answers `forgotten`, and the sender settles the workers as unanswered)' },
  { seed: 12068, splits: true, found: 'per-sender-order, with splits drawn (counter/98): a call n6 sent to its own copy waited 4 s there in a claim; after the window its view named another owner, and its next message, a cast, went straight there and ran first (a send now waits behind the sender\'s own messages still queued in its copy, however long ago its ring moved)' },
  { seed: 13742, splits: true, found: 'per-sender-order, with splits drawn (counter/37): as seed 12068, a cast and a read waiting in the sender\'s own claiming copy, overtaken by its next call' },
  { seed: 13856, splits: true, found: 'per-sender-order, with splits drawn (ledger/44): the first of the order gaps the README lists, a call that waited on the route before past the window; clean since seed 14255\'s fix, which may only have moved its schedule: the gap remains' },
  { seed: 11185, splits: true, found: 'per-sender-order, with splits drawn (counter/71): the fourth of the order gaps the README lists; clean since seed 14255\'s fix, which may only have moved its schedule: the gap remains' },
  { seed: 14975, splits: true, found: 'per-sender-order, with splits drawn (ledger/27): a cast and then a call of one sender reached a claiming activation and ran on the next node in the reverse order; not diagnosed, clean since seed 14255\'s fix, which may only have moved its schedule' },
  { seed: 15097, splits: true, found: 'per-sender-order, with splits drawn (ledger/2): two calls that waited on a claiming owner failed as their node stopped, and its next call ran before them; not diagnosed, clean since seed 14255\'s fix, which may only have moved its schedule' },
  { seed: 14910, splits: true, found: 'graceful-keeps-memory, with splits drawn (counter/87): a drain handed the worker to n2; n7, its owner after a join, claimed it from n5, which passed the claim on to n2, which kept it for now; n7 gave the claim up as n8 joined and noted n5 as the holder, and n8\'s claim, passed on by n7 to n5, went no further (a claim was passed on once at most), so n8 started the worker afresh and its copy won over n2\'s (a node that passes a claim on now notes who kept the worker, and a claim is passed on up to three times)' },
  { seed: 12573, splits: true, found: 'per-sender-order, with splits drawn (ticker/97, message 8 from n2 ran after 9): clean since claims are passed on up to three hops (seed 14910), which may only have moved its schedule; see the open order seeds' },
  { seed: 15737, splits: true, found: 'per-sender-order, with splits drawn (counter/64, message 1 from n2 ran after 2): clean since claims are passed on up to three hops (seed 14910), which may only have moved its schedule; see the open order seeds' },
  { seed: 14738, splits: true, found: 'per-sender-order, with splits drawn (counter/71, message 5 from n5 ran after 8): clean since claims are passed on up to three hops (seed 14910), which may only have moved its schedule; see the open order seeds' },
  { seed: 14871, splits: true, found: 'per-sender-order, with splits drawn (ticker/67, message 7 from n7 ran after 8): clean since claims are passed on up to three hops (seed 14910), which may only have moved its schedule; see the open order seeds' },
  { seed: 16092, splits: true, found: 'per-sender-order, with splits drawn (ticker/32, message 5 from n6 ran after 6): clean since claims are passed on up to three hops (seed 14910), which may only have moved its schedule; see the open order seeds' }
]

/**
 * One seed for each kind of partition, drawn with partitions and splits (`--partitions`):
 * a node cut off both ways, one way, a minority, equal halves, a flapping cut. Each must
 * keep every invariant, with the lease (safe pools) on. What each draws is as the trace
 * shows it at the commit that listed it: a change moves every seed's schedule, and these
 * are looked up again when it does.
 */
const PARTITION_SCENARIOS: Array<{ seed: number, what: string }> = [
  { seed: 5, what: 'n4 cut off both ways from the four others for 7.7 s' },
  { seed: 7, what: 'n3 cut off one way (it cannot send) from the four others for 7.3 s' },
  { seed: 10, what: 'two of six (n4, n6) cut off for 7.2 s, and n2 alone meanwhile' },
  { seed: 22, what: 'equal halves, two and two, for 2.2 s, after n4 was cut off one way' },
  { seed: 6, what: 'equal halves, three and three, for 6.9 s, and n6 cut off from everyone meanwhile' },
  { seed: 13, what: 'n5 and n4 cut off from n1, n2, n3, flapping 10 times' }
]

/** Seeds run on every `npm test`, beside the regressions: the same ones every time. */
const FIXED = Array.from({ length: 24 }, (_, i) => 1_000 + i)

/** The runs `npm run sim` makes by default: 5 nodes, 60 virtual seconds, no partitions (see the README). */
/** Seeds that found a bug with replicas of the counter pool (`--replicas 1`), kept as regressions. */
const REPLICA_REGRESSIONS: Array<{ seed: number, found: string, replicas?: 1 | 2, partitions?: boolean, walk?: number }> = [
  { seed: 4, found: 'a replica holder that left the chain (a drain) dropped its replica while the owner stood still, and the owner\'s successor had none when it took over (a holder now passes its replicas on to the chain, and keeps its own 10 s); later, with the end check of replicas, a drop decided on one ring that reached a successor after a put of the next, which named it again (a drop now names its put)' },
  { seed: 1, found: 'a successor starting the worker (claiming it from the owner, in a drain) refused the owner\'s put as from an older copy, and the owner dropped its live copy (a copy still starting refuses nothing now)' },
  { seed: 31, found: 'a joiner became the owner\'s successor in one view while the replica went to another node in the view before; the owner stood still and the joiner started the worker from init (a starting worker now asks its chain\'s nodes for their replicas while the ring moved lately)' },
  { seed: 62, found: 'a holder that left the chain passed its replica on to the successor only, and the new owner (the old one stood still) started from init (replicas are passed on to the owner too)' },
  { seed: 15, found: 'a worker handed to a joiner that was killed 2 s later started from init on its old owner: the old owner, still holding the copy it was handing over, had taken the new owner\'s replica for its own and kept nothing (a put from a newer copy than the one live here is kept now)' },
  { seed: 17, found: 'the books: two nodes stood still one after the other within the window, and the workers of the first were not excused' },
  { seed: 34, found: 'the books: a worker started from its replica on a node no turn of it ran on was not counted as held there' },
  { seed: 23, found: 'the books: a node that was the only one serving the pool left its workers no successor' },
  { seed: 1217, found: 'a draining node killed before its handoff landed, on a ring its death did not change: the owner kept the worker\'s replica and never started it (it does now, once it marks the sender down)' },
  { seed: 3079, found: 'the ring moved as a node resumed, while its worker\'s turn waited for its replica\'s acknowledgement; the worker, idle after, never followed it (a turn looks at its successors again once they answered)' },
  { seed: 7040, partitions: true, found: 'a put to a new successor that was cut off timed out after the ring had moved again, and the worker still counted it as sent: it never went again (a successor counts only once it acknowledged)' },
  { seed: 3016, found: 'a worker counted a drained node as holding its replica after a put to it failed, and never told it to drop (nor stopped counting it)' },
  { seed: 1001, found: 'the books: a node whose own ring held no other node (others joined while it stood still) replicated to no one' },
  { seed: 1182, found: 'the books: a graceful stop with no other node serving the pool ended a replicated worker\'s memory, as without replicas' },
  { seed: 5059, replicas: 2, found: 'the books: a worker mid-turn as it gained its first successor was replicated nowhere yet when its node was lost' },
  { seed: 3264, found: 'the books: a lost node\'s workers are judged by its runtime\'s placement (the view runs ahead of it), and a worker claimed away from it, its state still there, counts as its' },
  { seed: 3022, found: 'the books: a node that ran a worker it did not own replicated it to the claiming owner, not to its successors' },
  { seed: 3096, found: 'the books: a lost node\'s workers are judged by where their replicas were as it was lost, not by its ring since' },
  { seed: 3216, found: 'a successor that left the pool (its target set to 0) passed the replica on to a chain with no node left, and a node that joined later started the worker from init (a lingering replica is passed on again on each ring change)' },
  { seed: 7256, partitions: true, found: 'the books: a node cut off alone named a new successor it could not reach; its replica was on nodes lost with it' },
  { seed: 3073, found: 'the owner and its only successor stood still one after the other, and only the owner was marked down at first; the owner\'s fence dropped its copy, and with the successor marked down the worker started again from init (a fenced copy is kept as a replica now: replicas.spec)' },
  { seed: 3372, found: 'fences dropped the copies of a worker handed between nodes that stood still in turn, and it started again from an older replica (a fenced copy is kept as a replica now)' },
  { seed: 6011, replicas: 2, found: 'a node that stood still dropped its copy at its fence, and the copies started after it were lost to fences of their own (a fenced copy is kept as a replica now)' },
  { seed: 9008, replicas: 2, partitions: true, found: 'a turn whose put neither successor acknowledged (both cut off) counted the second as holding its state: the sweep sent it again to the first only, and the second kept the turn before (replicas-on-successors; replicas.spec)' },
  { seed: 41018, replicas: 2, partitions: true, found: 'a copy started while its node\'s fence asked, from an old replica, was kept as a replica at the fence with the epoch drawn just then, and outranked the newest copy (a fence keeps only copies from before it now, by their epoch)' },
  { seed: 50282, found: 'a turn\'s reply waited for its replica while its node, cut off, fenced; its successor marked down, the pool had no other node, and the reply went out just before the fence dropped the only copy (a reply of a replicated turn now waits for a fence under way, and fails if the copy went)' },
  { seed: 52077, walk: 3, partitions: true, found: 'the books: a worker that was on a killed node moved to a node that started it from nothing, its replica\'s holder cut off and lost later in the window; the kill was not looked at again' },
  { seed: 60192, found: 'a copy handed in just before its node stood still, which took no turn there, was not kept at the fence, and its replica lingered out on a node drained meanwhile (a fence now keeps every copy from before the stall, by its epoch)' },
  { seed: 61188, replicas: 2, partitions: true, found: 'an owner cut off dropped its copy at its fence (only a stall\'s fence kept them then); with the ring still since, its next start asked no successor for a replica and began from init (every fence keeps copies from before it now)' },
  { seed: 3189, found: 'graceful-keeps-memory (counter/3 held 0, acknowledged 37), not diagnosed: it passed once a change to the liveness of silent clients moved the schedules, so what it showed may still be there' }
]

const OPTIONS: Omit<ScenarioOptions, 'seed'> = { nodes: 5, seconds: 60, exclude: ['partition', 'split'] }

function report (r: ScenarioResult): string {
  return `seed ${r.seed}: ${r.violation?.invariant ?? ''}: ${r.violation?.detail ?? ''}\n${r.tail.join('\n')}`
}

describe('the simulator over a fixed set of seeds', function () {
  this.timeout(60_000)

  it('runs the same, message for message, under access rules that grant every member everything: the rules\' code changes nothing else', async () => {
    for (const seed of [41, 42]) {
      const open = await runScenario({ ...OPTIONS, seed, seconds: 20 })
      const ruled = await runScenario({ ...OPTIONS, seed, seconds: 20, access: true })
      expect(ruled.digest, `seed ${seed}`).to.equal(open.digest)
      expect(ruled.violation).to.equal(undefined)
    }
  })

  it('replays a whole run from its seed: the same digest twice', async () => {
    const a = await runScenario({ ...OPTIONS, seed: 7, seconds: 20 })
    const b = await runScenario({ ...OPTIONS, seed: 7, seconds: 20 })
    expect(a.faults).to.be.above(3)
    expect(b.digest).to.equal(a.digest)
    const c = await runScenario({ ...OPTIONS, seed: 8, seconds: 20 })
    expect(c.digest).to.not.equal(a.digest)
  })

  for (const { seed, found } of REGRESSIONS) {
    it(`seed ${seed} stays clean (it found: ${found})`, async () => {
      const r = await runScenario({ ...OPTIONS, seed })
      expect(r.violation, report(r)).to.equal(undefined)
    })
  }

  for (const { seed, found, splits } of PARTITION_REGRESSIONS) {
    it(`seed ${seed}, partitions drawn too, stays clean (it found: ${found})`, async () => {
      // as they were found: most before splits were drawn
      const r = await runScenario({ ...OPTIONS, exclude: splits === true ? [] : ['split'], seed })
      expect(r.violation, report(r)).to.equal(undefined)
    })
  }

  for (const { seed, found, replicas = 1, partitions = false, walk } of REPLICA_REGRESSIONS) {
    it(`seed ${seed} with ${replicas} replica${replicas > 1 ? 's' : ''} of the counter pool${partitions ? ', partitions drawn,' : ''}${walk !== undefined ? ` walks of ${walk},` : ''} stays clean (it found: ${found})`, async () => {
      const r = await runScenario({ ...OPTIONS, ...(partitions ? { exclude: [] } : {}), replicas, seed, walk })
      expect(r.violation, report(r)).to.equal(undefined)
    })
  }

  for (const { seed, what } of PARTITION_SCENARIOS) {
    it(`seed ${seed}, partitions and splits drawn: ${what}; no invariant broken`, async () => {
      const r = await runScenario({ ...OPTIONS, exclude: [], seed })
      expect(r.violation, report(r)).to.equal(undefined)
    })
  }

  for (const seed of FIXED) {
    it(`seed ${seed}: 60 virtual seconds at 5 nodes, 20 or more operations and faults, break no invariant`, async () => {
      const r = await runScenario({ ...OPTIONS, seed })
      expect(r.violation, report(r)).to.equal(undefined)
      expect(r.faults).to.be.at.least(15)
    })
  }

  // Seeds that still show a bug (found by `npm run sim -- --seeds N --partitions`), skipped
  // with what each shows until its fix lands and it moves to the regressions. A change
  // moves every seed's schedule: one may pass later and the bug it showed still be there.
  it.skip('skipped because it shows a bug not fixed yet: seed 20113, gossip membership, no splits drawn, per-sender-order (ticker/61, message 1 from n9 ran after 2): found by a sweep of seeds 20000-20249; it fails the same way at the commit before the changes it was found with, so it is of the open order kind above. Not diagnosed further')
  it.skip('skipped because it shows a bug not fixed yet: seed 10207 with splits drawn (--partitions), per-sender-order (ledger/74, message 1 from n1 ran after 2): a node sent a call on to the owner it saw, whose view named the sender back; once its own view named itself, the same sender\'s next call came straight to it and started the worker, and the first came back behind it. Messages carry no first sender a node could order them by (a known gap the README lists)')
  it.skip('skipped because it shows a bug not fixed yet: seed 12112 with splits drawn (--partitions), per-sender-order (counter/89, message 4 from n3 ran after 5): by the trace, n3 cast to n6 while both were cut off from the others; the cast waited in n6\'s claiming copy; after the heal n3\'s next message, a call, went straight to the new owner n8 and ran before n6 handed its copy there (the first of the gaps the README lists, the message waiting on the owner before past the window)')
  it.skip('skipped because it shows a bug not fixed yet: seed 13059 with splits drawn (--partitions), per-sender-order (ticker/94, message 9 from n4 ran after 10). Not diagnosed')
  it.skip('skipped because it shows a bug not fixed yet: seed 14529 with splits drawn (--partitions), per-sender-order (counter/97, message 2 from n2 ran after 3). Not diagnosed')
  it.skip('skipped because it shows a bug not fixed yet: seed 15391 with splits drawn (--partitions), per-sender-order (counter/80, message 8 from n2 ran after 10). Not diagnosed')
  it.skip('skipped because it shows a bug not fixed yet: seed 16268 with splits drawn (--partitions), per-sender-order (counter/8, message 1 from n1 ran after 2). Not diagnosed')
  it.skip('skipped because it shows a bug not fixed yet: seed 16906 with splits drawn (--partitions), per-sender-order (counter/15, message 1 from n7 ran after 2). Not diagnosed')
  it.skip('skipped because it shows a bug not fixed yet: seed 41136 with --replicas 2, partitions drawn, graceful-keeps-memory (counter/0 holds 0, acknowledged 18): in the books, by the trace: the worker was handed to n6, the only node left serving the pool, between two of its fences, and the second dropped it; the books know who acknowledged its replica only as of its last increment, on the node before, so they do not excuse a loss that may be legitimate (no successor held it)')
  it.skip('skipped because it shows a bug not fixed yet: seed 62112 with --replicas 1, partitions drawn and walks of 3, graceful-keeps-memory (counter/7 holds 14, acknowledged 15): by the trace, a node cut off and acting alone started a copy from an old replica while its fence asked, and that copy\'s replica reached the node holding the live copy with a newer epoch before the fence dropped it, and outranked it there. Holding such follows until the fence ends fixed it but left replicas behind their workers in other seeds, not understood yet')
  it.skip('skipped because it shows a bug not fixed yet: seed 7025 with --replicas 1, partitions drawn, graceful-keeps-memory (counter/0 holds 15, acknowledged 16). It was fixed in the books (a node cut off one way served the pool alone in its view and acknowledged increments with no successor; the books took the successors of its ring by then for holders of its replica), and fails again, with the same numbers, since a fence keeps its copies at every fence and not only after a stall (the fix for seed 61188). Not diagnosed further')
})
