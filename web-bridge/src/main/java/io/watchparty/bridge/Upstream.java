package io.watchparty.bridge;

import io.grpc.CallCredentials;
import io.grpc.Channel;
import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.watchparty.proto.v1.CatalogServiceGrpc;
import io.watchparty.proto.v1.DemoAuthServiceGrpc;
import io.watchparty.proto.v1.RoomServiceGrpc;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bridge's one connection to the WatchParty gRPC server, shared by every browser it serves.
 *
 * <p>One HTTP/2 channel multiplexes all upstream calls: the bridge never opens a connection per
 * browser (DESIGN section 4). The connection is plaintext because the bridge and the server talk
 * over loopback or a private network. When the servers run as a fleet, what the bridge does about a
 * room owned by another instance goes to that instance, over a channel of its own ({@link
 * io.watchparty.bridge.relay.RoomOwners}).
 */
public final class Upstream implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Upstream.class);

  // A browser waits for at most this long; the server answers in milliseconds when it is well.
  static final Duration REQUEST_DEADLINE = Duration.ofSeconds(10);

  // In-flight calls get this long to finish on shutdown before they are cancelled.
  private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(5);

  private final String address;
  private final ManagedChannel channel;

  private Upstream(String address, ManagedChannel channel) {
    this.address = Objects.requireNonNull(address, "address");
    this.channel = Objects.requireNonNull(channel, "channel");
  }

  /** Opens the shared plaintext channel to the gRPC server at {@code address}. */
  public static Upstream connect(BridgeSettings.Address address) {
    ManagedChannel channel = dial(address);
    // Dial at once, so that the first readiness probe finds a connection rather than starts one.
    channel.getState(true);
    return new Upstream(address.toString(), channel);
  }

  /**
   * A plaintext channel to a gRPC server at {@code address}: the configured upstream, or another
   * instance of the fleet that owns a room ({@link io.watchparty.bridge.relay.RoomOwners}).
   */
  static ManagedChannel dial(BridgeSettings.Address address) {
    return Grpc.newChannelBuilderForAddress(
            address.host(), address.port(), InsecureChannelCredentials.create())
        .userAgent("watchparty-web-bridge")
        .build();
  }

  /** Wraps a channel the caller built, e.g. an in-process one in a test; closing shuts it down. */
  static Upstream over(ManagedChannel channel, String address) {
    return new Upstream(address, channel);
  }

  /** The gRPC server's address, as configured; for logs, health details and the root document. */
  public String address() {
    return address;
  }

  Channel channel() {
    return channel;
  }

  /**
   * The room service as {@code caller}, with the deadline a browser's request waits at most. Calls
   * about one room go to its owner instead ({@link RoomCalls}).
   */
  RoomServiceGrpc.RoomServiceBlockingStub rooms(CallCredentials caller) {
    return RoomServiceGrpc.newBlockingStub(channel)
        .withCallCredentials(caller)
        .withDeadlineAfter(REQUEST_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The catalog as {@code caller}, with the same deadline. */
  CatalogServiceGrpc.CatalogServiceBlockingStub catalog(CallCredentials caller) {
    return CatalogServiceGrpc.newBlockingStub(channel)
        .withCallCredentials(caller)
        .withDeadlineAfter(REQUEST_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The demo sign-in service (no caller: it issues the tokens), with the same deadline. */
  DemoAuthServiceGrpc.DemoAuthServiceBlockingStub demoAuth() {
    return DemoAuthServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(REQUEST_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Ends the reconnect back-off of a channel whose last attempt failed, so that a probe sees a
   * server that has come back at once instead of after a back-off of up to two minutes.
   */
  void reconnectIfBackingOff() {
    if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
      channel.resetConnectBackoff();
    }
  }

  /** Lets in-flight calls finish for a few seconds, then cancels what is left. */
  @Override
  public void close() {
    channel.shutdown();
    try {
      if (!channel.awaitTermination(SHUTDOWN_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn(
            "Upstream calls to {} still running after {}; cancelling them",
            address,
            SHUTDOWN_GRACE);
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
