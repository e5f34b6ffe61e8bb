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
import io.watchparty.server.testing.CassandraExtension;
import io.watchparty.server.testing.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The whole platform for the bridge's tests: the real gRPC server on a loopback port, over the test
 * class's keyspace of the real Cassandra node (from {@code CassandraExtension}), with the demo
 * catalog and demo users, and a web bridge in front of it, as {@code ./watchparty up} runs them;
 * the bridge's pages carry the test hook ({@code window.watchparty}) that the browser tests read. A
 * test class registers it in a static field and states its scenario, as with the server's {@code
 * TestServer}:
 *
 * <pre>{@code
 * class SlowBrowserIT {
 *   @RegisterExtension
 *   static final Platform platform =
 *       Platform.builder().bridge(settings -> settings.withSendBuffer(16 * 1024)).build();
 *
 *   @Test
 *   void aStalledBrowserIsResyncedOrClosed() {
 *     try (Browser alice = platform.browser("alice")) {
 *       ...
 *     }
 *   }
 * }
 * }</pre>
 *
 * <p>One platform serves the class (and its {@code @Nested} classes): it starts before the class's
 * {@code @BeforeAll} methods and stops after its {@code @AfterAll} methods. {@link #restartBridge}
 * replaces the bridge by a new one on the same port, as a deployment would.
 */
public final class Platform implements BeforeAllCallback, AfterAllCallback, AutoCloseable {
  public static final String SECRET = "watchparty-bridge-integration-tests-0123456789abcdef";

  private final UnaryOperator<BridgeSettings> bridgeChange;

  /** The unique id of the class context that started this platform. */
  private String owningClass;

  private CqlSession session;
  private ServerSettings serverSettings;
  private WatchPartyServer server;
  private BridgeSettings bridgeSettings;
  private ManagedChannel channel;
  private volatile WebBridge bridge;

  private Platform(Builder builder) {
    this.bridgeChange = builder.bridge;
  }

  /** A platform with the test room tunables and the bridge's default settings. */
  public static Builder builder() {
    return new Builder();
  }

  /** What the platform is made of; each method changes one thing. */
  public static final class Builder {
    private UnaryOperator<BridgeSettings> bridge = UnaryOperator.identity();

    private Builder() {}

    /** Changes the bridge's settings (limits, buffers, timers), after any earlier change. */
    public Builder bridge(UnaryOperator<BridgeSettings> change) {
      UnaryOperator<BridgeSettings> before = bridge;
      bridge = settings -> change.apply(before.apply(settings));
      return this;
    }

    /** The platform to register with {@code @RegisterExtension}; it starts when JUnit says. */
    public Platform build() {
      return new Platform(this);
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    // A @Nested class's context runs this again: the enclosing class's platform serves it too.
    if (owningClass == null) {
      owningClass = context.getUniqueId();
      open(CassandraExtension.storage(context).session());
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (context.getUniqueId().equals(owningClass)) {
      try {
        close();
      } finally {
        owningClass = null; // a rerun of a failed test starts a new platform
      }
    }
  }

  private void open(CqlSession session) {
    int bridgePort = freePort();
    URI links = URI.create("http://127.0.0.1:" + bridgePort);
    this.session = session;
    serverSettings =
        new ServerSettings(
            "127.0.0.1",
            0,
            -1,
            links,
            AuthSettings.hs256(SECRET, true),
            TestServer.roomDefaults().build(),
            1_000,
            Duration.ofMinutes(1),
            true,
            ChatSettings.DEFAULTS,
            Optional.empty());
    server = startInstance();
    bridgeSettings =
        bridgeChange.apply(
            new BridgeSettings(
                    "127.0.0.1", bridgePort, new BridgeSettings.Address("127.0.0.1", server.port()))
                .withObservePort(0)
                .withTestHook(true));
    bridge = WebBridge.start(bridgeSettings);
    channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", server.port(), InsecureChannelCredentials.create())
            .build();
  }

  public WebBridge bridge() {
    return requireStarted(bridge);
  }

  /** Stops the bridge and starts a new one on the same port, as a deployment would. */
  void restartBridge() {
    bridge().close();
    bridge = WebBridge.start(bridgeSettings);
  }

  public WatchPartyServer server() {
    return requireStarted(server);
  }

  /** The session of the platform's keyspace, for tests that read or change Cassandra. */
  CqlSession session() {
    return requireStarted(session);
  }

  /**
   * Starts another server instance beside the platform's, as the next instance of a fleet: on its
   * own loopback port, over the same keyspace, with the same settings (so it accepts the same
   * tokens). The bridge's upstream stays the platform's server; the caller closes the instance.
   */
  WatchPartyServer startInstance() {
    return WatchPartyServer.start(
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)),
        requireStarted(session),
        requireStarted(serverSettings),
        Clock.systemUTC());
  }

  URI uri(String path) {
    return bridge().uri().resolve(path);
  }

  /** The bridge's metrics in Prometheus text, from its observe port. */
  String bridgeMetrics() {
    URI metrics = bridge().observeUri().orElseThrow().resolve("/observe/metrics");
    try (HttpClient http = HttpClient.newHttpClient()) {
      HttpResponse<String> response =
          http.send(
              // A bound on a broken bridge, never a wait for behaviour.
              HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(20)).build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new AssertionError(metrics + " answered " + response.statusCode());
      }
      return response.body();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A browser of {@code userId}, signed in through the demo sign-in. */
  Browser browser(String userId) {
    return Browser.signedIn(this, userId);
  }

  /** A gRPC stub of the server as {@code userId}: what a native app would do in the same room. */
  RoomServiceGrpc.RoomServiceBlockingStub grpcAs(String userId) {
    return RoomServiceGrpc.newBlockingStub(requireStarted(channel))
        .withCallCredentials(BearerToken.of(token(userId)));
  }

  /** A token for a demo user, signed by this server. */
  String token(String userId) {
    return server().tokens().issue(DemoUsers.find(userId).orElseThrow(), Duration.ofHours(1));
  }

  /** Calls a stub factory on the platform's own gRPC channel, e.g. for the chat service. */
  <T> T grpc(Function<io.grpc.Channel, T> stub) {
    return stub.apply(requireStarted(channel));
  }

  @Override
  public void close() {
    if (server == null) {
      return; // it never started, or it is closed already
    }
    // Parts are null when the start failed halfway (a bridge port taken meanwhile, say).
    if (channel != null) {
      channel.shutdownNow();
    }
    if (bridge != null) {
      bridge.close();
    }
    server.close();
    channel = null;
    bridge = null;
    server = null;
    session = null;
    serverSettings = null;
  }

  private static <T> T requireStarted(T part) {
    if (part == null) {
      throw new IllegalStateException(
          "the Platform has not started: register it with @RegisterExtension on a static field");
    }
    return part;
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
