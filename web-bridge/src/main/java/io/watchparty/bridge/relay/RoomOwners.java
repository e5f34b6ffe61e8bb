package io.watchparty.bridge.relay;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where each room is served, when the gRPC servers run as a fleet: every room is owned by one
 * server instance, and another instance refuses calls about it {@code UNAVAILABLE/ROOM_MOVED},
 * naming the owner ({@code owner_address}, host:port). The bridge remembers the owner a refusal
 * named and sends what it does about the room there: the room's relay stream ({@link RoomRelay})
 * and the browsers' calls about the room. Rooms whose owner the bridge has not been told of go
 * through the configured upstream, and so does a room whose owner could not be reached (the
 * upstream then serves it, or names its owner).
 *
 * <p>Only addresses the servers name are dialled, never one a browser sent. Channels to owners open
 * on demand, one per address, at most {@link #MAX_INSTANCES} (the least recently used is shut down,
 * letting its calls finish); {@link #close} shuts them all. Thread-safe.
 */
public final class RoomOwners implements AutoCloseable {
  /** The reason of the refusal that names a room's owner (errors.proto). */
  public static final String ROOM_MOVED = "ROOM_MOVED";

  /** The domain of the server's {@code ErrorInfo}. */
  public static final String DOMAIN = "watchparty.io";

  /** The most instances the bridge holds a channel to. */
  static final int MAX_INSTANCES = 64;

  /** How many times a call about a room is sent on: to a named owner, or back to the upstream. */
  static final int MAX_HOPS = 2;

  private static final Logger log = LoggerFactory.getLogger(RoomOwners.class);
  private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(5);

  /**
   * Where a call about a room goes.
   *
   * @param owner the owner's address, empty for the configured upstream
   * @param channel the channel to it
   */
  public record Route(Optional<String> owner, Channel channel) {}

  private final Route upstream;
  private final String upstreamAddress;
  private final Function<String, ManagedChannel> dial;
  private final RelayMetrics metrics;

  /** Room id to the owner's address, for rooms the servers said are owned elsewhere. */
  private final Cache<String, String> owners =
      Caffeine.newBuilder().maximumSize(100_000).expireAfterAccess(Duration.ofHours(1)).build();

  private final Cache<String, ManagedChannel> channels =
      Caffeine.newBuilder()
          .maximumSize(MAX_INSTANCES)
          .executor(Runnable::run)
          .<String, ManagedChannel>evictionListener(
              (address, channel, cause) -> {
                if (channel != null) {
                  channel.shutdown(); // calls in flight finish; a new call dials again
                }
              })
          .build();

  private volatile boolean closed;

  /**
   * @param upstream the channel to the configured upstream
   * @param upstreamAddress its address (host:port), so that an owner named by it uses it
   * @param dial opens a channel to an instance by its address (host:port); throws {@link
   *     IllegalArgumentException} for an address it cannot dial
   * @param metrics counts the moves followed
   */
  public RoomOwners(
      Channel upstream,
      String upstreamAddress,
      Function<String, ManagedChannel> dial,
      RelayMetrics metrics) {
    this.upstream = new Route(Optional.empty(), Objects.requireNonNull(upstream, "upstream"));
    this.upstreamAddress = Objects.requireNonNull(upstreamAddress, "upstreamAddress");
    this.dial = Objects.requireNonNull(dial, "dial");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
  }

  /** Where calls about {@code roomId} go now: its owner, as far as the bridge knows. */
  public Route route(String roomId) {
    String owner = owners.getIfPresent(roomId);
    return owner == null ? upstream : routeTo(owner);
  }

  /**
   * The owner a refusal names: the address of a {@code ROOM_MOVED} refusal's {@code owner_address},
   * when it is one the bridge can dial.
   */
  public static Optional<String> movedTo(Throwable failure) {
    if (Status.fromThrowable(failure).getCode() != Status.Code.UNAVAILABLE) {
      return Optional.empty();
    }
    return errorInfo(failure)
        .filter(info -> info.getReason().equals(ROOM_MOVED))
        .map(info -> info.getMetadataOrDefault("owner_address", ""))
        .filter(RoomOwners::dialable);
  }

  /** The server's {@code ErrorInfo} in a failed call, if it carries one of its domain. */
  public static Optional<ErrorInfo> errorInfo(Throwable failure) {
    com.google.rpc.Status status = StatusProto.fromThrowable(failure);
    if (status == null) {
      return Optional.empty();
    }
    return status.getDetailsList().stream()
        .filter(any -> any.is(ErrorInfo.class))
        .map(
            any -> {
              try {
                return Optional.of(any.unpack(ErrorInfo.class));
              } catch (InvalidProtocolBufferException malformed) {
                return Optional.<ErrorInfo>empty();
              }
            })
        .flatMap(Optional::stream)
        .filter(info -> info.getDomain().equals(DOMAIN))
        .findFirst();
  }

  /**
   * The room moved to {@code owner}, as a refusal said: calls about it go there from now on.
   *
   * @return the route to the owner; empty when the bridge cannot dial it (then nothing changed)
   */
  public Optional<Route> follow(String roomId, String owner) {
    Route route;
    try {
      route = routeTo(owner);
    } catch (IllegalArgumentException undialable) {
      log.warn("Room {}: the server named an owner the bridge cannot dial: {}", roomId, owner);
      return Optional.empty();
    }
    if (route.owner().isEmpty()) {
      owners.invalidate(roomId);
    } else {
      owners.put(roomId, owner);
    }
    metrics.roomMoved();
    log.info("Room {} is served by {}; following it there", roomId, owner);
    return Optional.of(route);
  }

  /**
   * A call over {@code tried} failed without naming an owner: unless the bridge has heard of a
   * newer owner meanwhile, calls about the room go through the upstream again.
   */
  public void unreachable(String roomId, Route tried) {
    tried.owner().ifPresent(address -> owners.asMap().remove(roomId, address));
  }

  /**
   * A unary call about {@code roomId}, made over the channel to the room's owner. Refused {@code
   * ROOM_MOVED}, it is made again at the owner the refusal names; failed {@code UNAVAILABLE} at an
   * owner the bridge remembered, again through the upstream; at most {@link #MAX_HOPS} times in
   * all. Only calls a repeat cannot apply twice belong here (the server's refusal {@code
   * ROOM_MOVED} is decided before anything is stored; chat messages carry their client message id).
   */
  public <T> T call(String roomId, Function<Channel, T> call) {
    Route route = route(roomId);
    for (int hop = 0; ; hop++) {
      try {
        return call.apply(route.channel());
      } catch (StatusRuntimeException e) {
        if (hop >= MAX_HOPS || closed) {
          throw e;
        }
        Optional<Route> moved = movedTo(e).flatMap(owner -> follow(roomId, owner));
        if (moved.isPresent()) {
          route = moved.get();
        } else if (e.getStatus().getCode() == Status.Code.UNAVAILABLE
            && route.owner().isPresent()) {
          log.info(
              "Room {}: its owner {} is unavailable ({}); asking the upstream",
              roomId,
              route.owner().get(),
              e.getStatus().getDescription());
          unreachable(roomId, route);
          route = upstream;
        } else {
          throw e;
        }
      }
    }
  }

  private Route routeTo(String owner) {
    if (owner.equals(upstreamAddress) || closed) {
      return upstream;
    }
    return new Route(Optional.of(owner), channels.get(owner, dial));
  }

  private static boolean dialable(String address) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || colon == address.length() - 1) {
      return false;
    }
    try {
      int port = Integer.parseInt(address.substring(colon + 1));
      return port >= 1 && port <= 65535;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** Shuts every owner's channel, letting calls in flight finish for a few seconds. */
  @Override
  public void close() {
    closed = true;
    List<ManagedChannel> open = new ArrayList<>(channels.asMap().values());
    channels.asMap().clear();
    open.forEach(ManagedChannel::shutdown);
    long deadline = System.nanoTime() + SHUTDOWN_GRACE.toNanos();
    try {
      for (ManagedChannel channel : open) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || !channel.awaitTermination(left, TimeUnit.NANOSECONDS)) {
          channel.shutdownNow();
        }
      }
    } catch (InterruptedException e) {
      open.forEach(ManagedChannel::shutdownNow);
      Thread.currentThread().interrupt();
    }
  }
}
