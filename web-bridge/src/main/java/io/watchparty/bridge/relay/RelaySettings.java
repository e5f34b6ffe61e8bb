package io.watchparty.bridge.relay;

import io.watchparty.proto.Backoff;
import java.time.Duration;
import java.util.Objects;

/**
 * Tunables of the relay.
 *
 * @param eventBuffer room events kept per room for browsers that resume with {@code Last-Event-ID}
 * @param viewerQueue events queued per browser before it gets a snapshot instead
 * @param linger how long a room's upstream stream stays open after its last browser left
 * @param reconnectBase first reconnect delay after the upstream stream dropped (doubling)
 * @param reconnectMax longest reconnect delay
 */
public record RelaySettings(
    int eventBuffer,
    int viewerQueue,
    Duration linger,
    Duration reconnectBase,
    Duration reconnectMax) {

  /** The documented defaults. */
  public static final RelaySettings DEFAULTS =
      new RelaySettings(
          1024, 256, Duration.ofSeconds(10), Duration.ofMillis(250), Duration.ofSeconds(10));

  public RelaySettings {
    Objects.requireNonNull(linger, "linger");
    Objects.requireNonNull(reconnectBase, "reconnectBase");
    Objects.requireNonNull(reconnectMax, "reconnectMax");
    if (eventBuffer < 1 || viewerQueue < 2) {
      throw new IllegalArgumentException(
          "the event buffer must be positive and the viewer queue at least 2, got "
              + eventBuffer
              + " and "
              + viewerQueue);
    }
    if (reconnectBase.toMillis() < 1 || reconnectMax.compareTo(reconnectBase) < 0) {
      throw new IllegalArgumentException(
          "reconnect delays must be positive and the longest at least the first");
    }
  }

  /** The reconnect delays: doubling from the first to the longest, full jitter. */
  public Backoff reconnectBackoff() {
    return Backoff.doubling(reconnectBase, reconnectMax);
  }
}
