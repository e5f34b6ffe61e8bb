package io.watchparty.bridge.relay;

/**
 * What the relay counts; the bridge exports it as Prometheus meters. Implementations are
 * thread-safe.
 */
public interface RelayMetrics {
  void upstreamOpened();

  /** One room event queued for {@code browsers} browsers. */
  void delivered(int browsers);

  /** A browser resumed with Last-Event-ID and got exactly the events it missed. */
  void resumedExactly();

  /**
   * A browser resumed with Last-Event-ID and got a snapshot: the gap was too old, the id unknown,
   * or the relay had no events of the room yet (the room is new to this bridge, e.g. it restarted).
   */
  void resumedBySnapshot();

  /** A slow browser's backlog was replaced by a snapshot. */
  void resynced();

  /**
   * A room moved to another server instance, as a refusal {@code ROOM_MOVED} said, and the bridge
   * followed it there (its relay stream, or a browser's call about it).
   */
  void roomMoved();
}
