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

  /** A browser resumed with Last-Event-ID and got a snapshot (gap too old or unknown id). */
  void resumedBySnapshot();

  /** A slow browser's backlog was replaced by a snapshot. */
  void resynced();
}
