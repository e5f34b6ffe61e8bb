package io.watchparty.bridge;

import com.datastax.oss.driver.api.core.CqlSession;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.server.ServerSettings;
import io.watchparty.server.WatchPartyServer;
import io.watchparty.server.auth.AuthSettings;
import io.watchparty.server.auth.DemoUsers;
import io.watchparty.server.chat.ChatSettings;
import io.watchparty.server.room.RoomConfig;
import io.watchparty.server.testing.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The whole platform for the bridge's tests: the real gRPC server on a loopback port, over the test
 * class's keyspace of the real Cassandra node (from {@code CassandraExtension}), with the demo
 * catalog and demo users, and a web bridge in front of it, as {@code ./watchparty up} runs them;
 * the bridge's pages carry the test hook ({@code window.watchparty}) that the browser tests read.
 *
 * <pre>{@code
 * @ExtendWith(CassandraExtension.class)
 * class SomeIT {
 *   static Platform platform;
 *
 *   @BeforeAll
 *   static void start(CqlSession session) {
 *     platform = Platform.start(session);
 *   }
 *
 *   @AfterAll
 *   static void stop() {
 *     platform.close();
 *   }
 * }
 * }</pre>
 */
public final class Platform implements AutoCloseable {
  public static final String SECRET = "watchparty-bridge-integration-tests-0123456789abcdef";

  private final WatchPartyServer server;
  private final BridgeSettings bridgeSettings;
  private final ManagedChannel channel;
  private volatile WebBridge bridge;

  private Platform(
      WatchPartyServer server,
      BridgeSettings bridgeSettings,
      WebBridge bridge,
      ManagedChannel channel) {
    this.server = server;
    this.bridgeSettings = bridgeSettings;
    this.bridge = bridge;
    this.channel = channel;
  }

  /** The platform with the test room tunables and the bridge's default settings. */
  public static Platform start(CqlSession session) {
    return start(session, UnaryOperator.identity(), TestServer.roomDefaults().build());
  }

  /**
   * The platform with bridge settings changed by {@code bridgeSettings} (limits, buffers, timers).
   */
  public static Platform start(
      CqlSession session, UnaryOperator<BridgeSettings> bridgeSettings, RoomConfig rooms) {
    int bridgePort = freePort();
    URI links = URI.create("http://127.0.0.1:" + bridgePort);
    ServerSettings settings =
        new ServerSettings(
            "127.0.0.1",
            0,
            -1,
            links,
            AuthSettings.hs256(SECRET, true),
            rooms,
            1_000,
            Duration.ofMinutes(1),
            true,
            ChatSettings.DEFAULTS);
    WatchPartyServer server =
        WatchPartyServer.start(
            NettyServerBuilder.forAddress(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)),
            session,
            settings,
            Clock.systemUTC());
    BridgeSettings bridge =
        bridgeSettings.apply(
            new BridgeSettings(
                    "127.0.0.1", bridgePort, new BridgeSettings.Address("127.0.0.1", server.port()))
                .withTestHook(true));
    WebBridge web = WebBridge.start(bridge);
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", server.port(), InsecureChannelCredentials.create())
            .build();
    return new Platform(server, bridge, web, channel);
  }

  public WebBridge bridge() {
    return bridge;
  }

  /** Stops the bridge and starts a new one on the same port, as a deployment would. */
  void restartBridge() {
    bridge.close();
    bridge = WebBridge.start(bridgeSettings);
  }

  public WatchPartyServer server() {
    return server;
  }

  URI uri(String path) {
    return bridge.uri().resolve(path);
  }

  /** A browser of {@code userId}, signed in through the demo sign-in. */
  Browser browser(String userId) {
    return Browser.signedIn(this, userId);
  }

  /** A gRPC stub of the server as {@code userId}: what a native app would do in the same room. */
  RoomServiceGrpc.RoomServiceBlockingStub grpcAs(String userId) {
    return RoomServiceGrpc.newBlockingStub(channel)
        .withCallCredentials(BearerToken.of(token(userId)));
  }

  /** A token for a demo user, signed by this server. */
  String token(String userId) {
    return server.tokens().issue(DemoUsers.find(userId).orElseThrow(), Duration.ofHours(1));
  }

  /** Calls a stub factory on the platform's own gRPC channel, e.g. for the chat service. */
  <T> T grpc(Function<io.grpc.Channel, T> stub) {
    return stub.apply(channel);
  }

  @Override
  public void close() {
    channel.shutdownNow();
    bridge.close();
    server.close();
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
