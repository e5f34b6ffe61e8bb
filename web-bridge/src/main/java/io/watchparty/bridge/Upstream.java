package io.watchparty.bridge;

import io.grpc.Channel;
import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
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
 * over loopback or a private network.
 */
public final class Upstream implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Upstream.class);

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
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress(
                address.host(), address.port(), InsecureChannelCredentials.create())
            .userAgent("watchparty-web-bridge")
            .build();
    // Dial at once, so that the first readiness probe finds a connection rather than starts one.
    channel.getState(true);
    return new Upstream(address.toString(), channel);
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
