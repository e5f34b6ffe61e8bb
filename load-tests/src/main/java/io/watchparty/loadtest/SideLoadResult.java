package io.watchparty.loadtest;

import java.util.Map;
import java.util.Optional;
import org.HdrHistogram.Histogram;

/**
 * What the {@link SideLoads} of one run measured; each part is empty when it was off. Latencies in
 * microseconds.
 */
record SideLoadResult(Optional<Churn> churn, Optional<Reactions> reactions, Optional<Slow> slow) {
  static final SideLoadResult NONE =
      new SideLoadResult(Optional.empty(), Optional.empty(), Optional.empty());

  /** Whether every churning viewer and every slow one behaved as the server's design says. */
  boolean complete() {
    return churn.map(c -> c.failed() == 0).orElse(true)
        && reactions.map(r -> r.viewersWrong() == 0).orElse(true)
        && slow.map(s -> s.complete() == s.viewers()).orElse(true);
  }

  /**
   * Viewers who joined and left during the window.
   *
   * @param offered churning viewers the rate and the window asked for
   * @param joined those that got their snapshot
   * @param left those whose stream the server ended with OK after their Leave
   * @param failed not joined, not left cleanly, closed by the server, or a gap or out-of-order
   *     frame while they stayed
   * @param joinsPerSecond joins completed over the time from the first join sent to the last
   *     snapshot received
   * @param join join sent (stream opened) to snapshot received
   * @param leave Leave sent to the stream's OK close (the queued events are written first)
   */
  record Churn(
      int offered,
      int joined,
      int left,
      int failed,
      long gaps,
      long outOfOrder,
      double joinsPerSecond,
      Histogram join,
      Histogram leave,
      Map<String, Integer> failures) {}

  /**
   * Reaction bursts, against what the server's design makes of them: every accepted reaction is
   * counted into exactly one Reactions event of its room (one per reaction window), which every
   * member gets, unless a resync (a snapshot, which has no reactions) replaced it.
   *
   * @param sent React calls made
   * @param accepted answered OK (counted by the room)
   * @param rateLimited refused RESOURCE_EXHAUSTED (the per-user reaction limit)
   * @param expectedRateLimited refusals the server's documented limiter (a token bucket per user
   *     with the given rate and burst) makes of the same reactions, replayed at the instants they
   *     were answered
   * @param limiterDiffering reactions whose outcome differs from that replay (answers that came
   *     back in another order than the server counted them, or a limiter that is not the documented
   *     one)
   * @param otherRefusals refused with another status, by code
   * @param events Reactions events the rooms published (as their viewers saw them)
   * @param viewers the reading viewers checked
   * @param viewersExact viewers whose Reactions counts add up to exactly the accepted reactions of
   *     their room
   * @param viewersShortResynced fewer, but resynced (allowed)
   * @param viewersWrong fewer without a resync, or more
   * @param expected the sum over the viewers of their room's accepted reactions
   * @param delivered the sum over the viewers of the counts they received
   * @param sendToDeliver each reaction's send to its Reactions event at each viewer (includes the
   *     wait for the end of its reaction window)
   * @param sendToAck each accepted reaction's send to its OK
   */
  record Reactions(
      long sent,
      long accepted,
      long rateLimited,
      long expectedRateLimited,
      long limiterDiffering,
      Map<String, Long> otherRefusals,
      long events,
      int viewers,
      int viewersExact,
      int viewersShortResynced,
      int viewersWrong,
      long expected,
      long delivered,
      Histogram sendToDeliver,
      Histogram sendToAck) {}

  /**
   * Viewers that read at a bounded rate.
   *
   * @param complete got the room's last command, without a gap or an out-of-order frame (resyncs
   *     allowed), and the server did not close them
   * @param resynced viewers resynchronized from a snapshot at least once
   * @param resyncs snapshots that replaced a backlog, over all of them
   * @param each command to each slow viewer (events they got as events, not through a snapshot)
   */
  record Slow(
      int viewers,
      int complete,
      int behind,
      int closed,
      int resynced,
      long resyncs,
      long gaps,
      long outOfOrder,
      Histogram each) {}
}
