package io.watchparty.server.room;

import io.watchparty.proto.v1.RoomSettings;
import java.util.Collection;
import java.util.UUID;

/**
 * The room as its admission and licence parts see it: the few facts and actions they need, rather
 * than a handle on every other part (Jellyfin's {@code IGroupStateContext} is the model). {@link
 * Room} implements it over its parts; every method is called under the room lock.
 */
interface RoomContext {
  UUID roomId();

  /** The room's settings now: its visibility says whether a newcomer needs an invite. */
  RoomSettings settings();

  /** The title playing now. */
  String titleId();

  /** Whether {@code userId} is a member here (connected, or within their reconnect grace). */
  boolean isMember(String userId);

  /** Everyone whose right to watch is tracked: members, and viewers relays serve. */
  Collection<Watcher> watchers();

  /** Queues a frame on one stream only (a per-connection notice, not in the event log). */
  void deliver(Subscriber stream, byte[] frame);

  /** Queues a frame about {@code userId} on every relay that serves them. */
  void tellRelays(String userId, byte[] frame);

  /**
   * Runs {@code task} after {@code delayMs} through the room's timers (cancelled at retirement).
   */
  RoomTimers.Timer schedule(Runnable task, long delayMs);
}
