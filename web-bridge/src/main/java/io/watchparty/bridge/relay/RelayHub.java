package io.watchparty.bridge.relay;

import io.grpc.CallCredentials;
import io.grpc.Channel;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.RoomServiceGrpc;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongSupplier;

/**
 * The bridge's relays, one per room that has a browser on this bridge. The entry point of the relay
 * package: {@link #attach} a browser whose user the server authorized, drain the returned {@link
 * ViewerStream}, close it when the browser goes.
 *
 * <p>Thread-safe. Relays open on first use and remove themselves when they close.
 */
public final class RelayHub implements AutoCloseable {
  private final RoomOwners owners;
  private final CallCredentials relayCredentials;
  private final RelaySettings settings;
  private final ScheduledExecutorService timers;
  private final RelayMetrics metrics;
  private final WatchabilityCheck watchability;
  private final LongSupplier serverTimeMs;
  private final Map<String, RoomRelay> relays = new ConcurrentHashMap<>();

  /**
   * @param owners where each room is served: the gRPC server, or the fleet instance that owns it
   * @param relayCredentials the bridge's own relay account, used only for the relay streams
   * @param settings buffer and queue sizes, linger and reconnect delays
   * @param timers runs linger and reconnect timers (short tasks only)
   * @param metrics what the relays count
   * @param watchability asks whether a user may watch a title, under their own token
   * @param serverTimeMs the bridge's estimate of the gRPC server's clock, for snapshots it hands
   *     out
   */
  public RelayHub(
      RoomOwners owners,
      CallCredentials relayCredentials,
      RelaySettings settings,
      ScheduledExecutorService timers,
      RelayMetrics metrics,
      WatchabilityCheck watchability,
      LongSupplier serverTimeMs) {
    this.owners = Objects.requireNonNull(owners, "owners");
    this.relayCredentials = Objects.requireNonNull(relayCredentials, "relayCredentials");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.timers = Objects.requireNonNull(timers, "timers");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.watchability = Objects.requireNonNull(watchability, "watchability");
    this.serverTimeMs = Objects.requireNonNull(serverTimeMs, "serverTimeMs");
  }

  /**
   * Serves {@code viewer} the events of {@code roomId}, opening the room's relay if this is its
   * first browser.
   *
   * @param role the user's role, from the server's grant
   * @param titleId the room's title when the grant was given (which the user may watch)
   * @param lastEventId the browser's {@code Last-Event-ID}, when it resumes
   */
  public ViewerStream attach(
      String roomId, Viewer viewer, Role role, String titleId, OptionalLong lastEventId) {
    while (true) {
      RoomRelay relay = relays.computeIfAbsent(roomId, id -> new RoomRelay(id, this));
      Optional<ViewerStream> stream = relay.attach(viewer, role, titleId, lastEventId);
      if (stream.isPresent()) {
        return stream.get();
      }
      relays.remove(roomId, relay); // it closed between lookup and attach: open a new one
    }
  }

  /** Ends {@code userId}'s streams in {@code roomId} (they left); a no-op when there are none. */
  public void endUser(String roomId, String userId, EndReason reason) {
    RoomRelay relay = relays.get(roomId);
    if (relay != null) {
      relay.endUser(userId, reason);
    }
  }

  /**
   * Tells the server that {@code userId}'s player in {@code roomId} is buffering or ready again;
   * false when the bridge serves the user no stream there.
   */
  public boolean buffering(String roomId, String userId, boolean buffering) {
    RoomRelay relay = relays.get(roomId);
    return relay != null && relay.buffering(userId, buffering);
  }

  /** Browsers served, in all rooms. */
  public int viewerCount() {
    return relays.values().stream().mapToInt(RoomRelay::viewerCount).sum();
  }

  /** Upstream relay streams that are open and joined. */
  public int upstreamStreams() {
    return (int) relays.values().stream().filter(RoomRelay::upstreamOpen).count();
  }

  /**
   * A tick of the keep-alive clock: every browser that was sent nothing since the previous tick
   * gets a keep-alive from its writer. The caller ticks every half heartbeat.
   */
  public void heartbeat() {
    relays.values().forEach(RoomRelay::heartbeat);
  }

  /** The longest browser queue, in events. */
  public int deepestQueue() {
    return relays.values().stream().mapToInt(RoomRelay::deepestQueue).max().orElse(0);
  }

  /** Browsers per room, busiest first, at most {@code limit} rooms. */
  public List<Map.Entry<String, Integer>> busiestRooms(int limit) {
    return relays.values().stream()
        .map(r -> Map.entry(r.roomId(), r.viewerCount()))
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .limit(limit)
        .toList();
  }

  /** Ends every browser stream (they may reconnect to another bridge) and every relay stream. */
  @Override
  public void close() {
    relays.values().forEach(RoomRelay::shutdown);
  }

  RoomOwners owners() {
    return owners;
  }

  /** The room service over {@code channel}, as the bridge's relay account. */
  RoomServiceGrpc.RoomServiceStub roomStub(Channel channel) {
    return RoomServiceGrpc.newStub(channel).withCallCredentials(relayCredentials);
  }

  RelaySettings settings() {
    return settings;
  }

  ScheduledExecutorService timers() {
    return timers;
  }

  RelayMetrics metrics() {
    return metrics;
  }

  WatchabilityCheck watchability() {
    return watchability;
  }

  long serverTimeMs() {
    return serverTimeMs.getAsLong();
  }

  void closed(RoomRelay relay) {
    relays.remove(relay.roomId(), relay);
  }
}
