package io.watchparty.server.testing;

import com.datastax.oss.driver.api.core.CqlSession;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.watchparty.proto.v1.CatalogAdminServiceGrpc;
import io.watchparty.proto.v1.CatalogServiceGrpc;
import io.watchparty.proto.v1.ChatServiceGrpc;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.CreateRoomResponse;
import io.watchparty.proto.v1.DemoAuthServiceGrpc;
import io.watchparty.proto.v1.HostLeavePolicy;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.ServerSettings;
import io.watchparty.server.WatchPartyServer;
import io.watchparty.server.auth.AuthSettings;
import io.watchparty.server.auth.DemoUsers;
import io.watchparty.server.chat.ChatSettings;
import io.watchparty.server.room.RoomConfig;
import io.watchparty.server.store.Storage;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A {@link WatchPartyServer} on the in-process transport, over the test class's keyspace of the
 * real Cassandra node (from {@link CassandraExtension}), with clients for the demo users. A test
 * class registers it and states its scenario; the extension does the plumbing:
 *
 * <pre>{@code
 * class FanOutIT {
 *   @RegisterExtension
 *   static final TestServer wp = TestServer.builder().rooms(r -> r.outboxCapacity(8)).build();
 *
 *   @Test
 *   void stalledMemberDelaysNobody() {
 *     String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
 *     StreamProbe alice = wp.connect("alice").join(roomId);
 *     ...
 *   }
 * }
 * }</pre>
 *
 * <p>In a static field (as Armeria's {@code ServerExtension}), one server serves the class: it
 * starts before the class's {@code @BeforeAll} methods, the streams each test opened are dropped
 * after the test, and it stops after the {@code @AfterAll} methods. In an instance field, each test
 * gets a server of its own. A test that needs another server for a while {@linkplain Builder#start
 * starts} one itself and closes it. {@link #restart()} replaces the server by a new one on the same
 * keyspace, as a deployment would.
 */
public final class TestServer
    implements BeforeAllCallback,
        BeforeEachCallback,
        AfterEachCallback,
        AfterAllCallback,
        AutoCloseable {
  public static final String SECRET = "watchparty-integration-tests-0123456789abcdef";
  public static final URI LINKS = URI.create("https://watch.example.test");
  private static final String LOOPBACK = "127.0.0.1";

  private final RoomConfig config;
  private final ChatSettings chat;
  private final Clock clock;
  private final Function<Storage, CqlSession> sessionFrom;
  private final Duration proxyTimeout; // null: no proxy
  private final boolean realExecutors;
  private final boolean overLoopback;
  private final List<StreamProbe> probes = new CopyOnWriteArrayList<>();

  /** The unique id of the class context that started this server, if a class owns it. */
  private String owningClass;

  private Storage storage;
  private TcpProxy proxy;
  private CqlSession session;
  private boolean ownsSession;
  private WatchPartyServer server;
  private ManagedChannel channel;
  private String name; // the in-process transport's
  private final List<ServerInterceptor> interceptors;

  private TestServer(Builder builder) {
    this.config = builder.rooms.build();
    this.chat = builder.chat;
    this.clock = builder.clock;
    this.sessionFrom = builder.sessionFrom;
    this.proxyTimeout = builder.proxyTimeout;
    this.realExecutors = builder.realExecutors;
    this.overLoopback = builder.overLoopback;
    this.interceptors = List.copyOf(builder.interceptors);
  }

  /** A server with the test room tunables ({@link #roomDefaults}), default chat, the UTC clock. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Room tunables for tests: the defaults, but a command rate no test reaches and a short presence
   * interval, so that only the tests of those rules meet them.
   */
  public static RoomConfig.Builder roomDefaults() {
    return RoomConfig.builder()
        .presenceInterval(Duration.ofMillis(100))
        .commandsPerSecond(10_000)
        .commandBurst(10_000);
  }

  /** What the server is made of; each method changes one thing. */
  public static final class Builder {
    private final RoomConfig.Builder rooms = roomDefaults();
    private ChatSettings chat = ChatSettings.DEFAULTS;
    private Clock clock = Clock.systemUTC();
    private Function<Storage, CqlSession> sessionFrom = Storage::session;
    private Duration proxyTimeout;
    private boolean realExecutors;
    private boolean overLoopback;
    private final List<ServerInterceptor> interceptors = new ArrayList<>();

    private Builder() {}

    /** Changes the room tunables, which start from {@link #roomDefaults}. */
    public Builder rooms(Consumer<RoomConfig.Builder> change) {
      change.accept(rooms);
      return this;
    }

    public Builder chat(ChatSettings value) {
      chat = value;
      return this;
    }

    /** The server's clock, e.g. a {@link MutableClock}. */
    public Builder clock(Clock value) {
      clock = value;
      return this;
    }

    /**
     * Where the registered server's session comes from: by default the class keyspace's own; a
     * session {@code open} opens instead (through a proxy, say) is closed after the server.
     */
    public Builder session(Function<Storage, CqlSession> open) {
      sessionFrom = open;
      return this;
    }

    /**
     * The server reaches Cassandra only through a {@link TcpProxy} the test turns off and on
     * ({@link TestServer#proxy}), on a session with this request timeout and quick reconnections.
     */
    public Builder throughProxy(Duration requestTimeout) {
      proxyTimeout = requestTimeout;
      return this;
    }

    /**
     * Runs the server's calls on its own pools, as in production, and the channel's callbacks on
     * gRPC's default executor, instead of {@code directExecutor}, which runs each on the thread
     * that caused it and so hides every thread hop.
     */
    public Builder realExecutors() {
      realExecutors = true;
      return this;
    }

    /**
     * Serves on a real Netty port of 127.0.0.1 ({@link #target}) instead of the in-process
     * transport, for clients that open their own network channels; implies {@link #realExecutors}.
     */
    public Builder overLoopback() {
      overLoopback = true;
      realExecutors = true;
      return this;
    }

    /**
     * Adds an interceptor in front of every service, to watch the calls as the transport sees them.
     */
    public Builder intercept(ServerInterceptor interceptor) {
      interceptors.add(interceptor);
      return this;
    }

    /** The server to register with {@code @RegisterExtension}; it starts when JUnit says. */
    public TestServer build() {
      return new TestServer(this);
    }

    /** Starts a server at once, on {@code session}; the caller closes it. */
    public TestServer start(CqlSession session) {
      TestServer started = build();
      started.session = session;
      started.open();
      return started;
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    // A @Nested class's context runs this again: the enclosing class's server serves it too.
    if (owningClass == null) {
      owningClass = context.getUniqueId();
      open(CassandraExtension.storage(context));
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    if (owningClass == null) {
      open(CassandraExtension.storage(context));
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (owningClass == null) {
      close();
    } else {
      disconnectAll();
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (context.getUniqueId().equals(owningClass)) {
      close();
      owningClass = null; // a rerun of a failed test opens a new server on a new session
    }
  }

  private void open(Storage storage) {
    this.storage = storage;
    if (proxyTimeout != null) {
      TcpProxy.Proxied proxied = TcpProxy.session(storage, proxyTimeout);
      proxy = proxied.proxy();
      session = proxied.session();
    } else {
      session = sessionFrom.apply(storage);
    }
    ownsSession = session != storage.session();
    open();
  }

  private static ServerSettings settings(RoomConfig config, ChatSettings chat) {
    return new ServerSettings(
        "127.0.0.1",
        0,
        -1,
        LINKS,
        AuthSettings.hs256(SECRET, true),
        config,
        1_000,
        Duration.ofMinutes(1),
        true,
        chat,
        Optional.empty());
  }

  private void open() {
    ServerBuilder<?> transport;
    if (overLoopback) {
      transport = NettyServerBuilder.forAddress(new InetSocketAddress(LOOPBACK, 0));
    } else {
      name = "watchparty-" + UUID.randomUUID();
      InProcessServerBuilder inProcess = InProcessServerBuilder.forName(name);
      transport = realExecutors ? inProcess : inProcess.directExecutor();
    }
    interceptors.forEach(transport::intercept);
    server =
        WatchPartyServer.start(
            transport,
            session,
            settings(config, chat),
            clock,
            realExecutors
                ? WatchPartyServer.CallThreads.SERVER_POOLS
                : WatchPartyServer.CallThreads.TRANSPORT);
    channel = newChannel();
  }

  /** {@code 127.0.0.1:<port>} of a server built {@link Builder#overLoopback}. */
  public String target() {
    if (!overLoopback) {
      throw new IllegalStateException("this test server is in-process; build it overLoopback()");
    }
    return LOOPBACK + ":" + server().port();
  }

  /** The session the server uses, for tests that read Cassandra or start a server beside it. */
  public CqlSession session() {
    return requireStarted(session);
  }

  /** The class keyspace's own session, which reaches Cassandra around any {@link #proxy}. */
  public CqlSession directSession() {
    return requireStarted(storage).session();
  }

  /** The proxy between the server and Cassandra of a server built {@link Builder#throughProxy}. */
  public TcpProxy proxy() {
    if (proxyTimeout == null) {
      throw new IllegalStateException("this test server reaches Cassandra directly");
    }
    return requireStarted(proxy);
  }

  public WatchPartyServer server() {
    return requireStarted(server);
  }

  /** A token for a demo user, signed by this server. */
  public String token(String userId) {
    return server().tokens().issue(DemoUsers.find(userId).orElseThrow(), Duration.ofHours(1));
  }

  public static Metadata bearer(String token) {
    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    return headers;
  }

  public RoomServiceGrpc.RoomServiceBlockingStub as(String userId) {
    return withToken(RoomServiceGrpc.newBlockingStub(channel()), token(userId));
  }

  public ChatServiceGrpc.ChatServiceBlockingStub chatAs(String userId) {
    return withToken(ChatServiceGrpc.newBlockingStub(channel()), token(userId));
  }

  /**
   * A new channel to this server, for code under test that owns (and shuts down) its channels; the
   * caller shuts it down.
   */
  public ManagedChannel newChannel() {
    if (overLoopback) {
      return NettyChannelBuilder.forAddress(LOOPBACK, server().port()).usePlaintext().build();
    }
    InProcessChannelBuilder client = InProcessChannelBuilder.forName(requireStarted(name));
    return (realExecutors ? client : client.directExecutor()).build();
  }

  /** The client channel, for calls the generated stubs cannot make (e.g. malformed requests). */
  public Channel channel() {
    return requireStarted(channel);
  }

  public RoomServiceGrpc.RoomServiceBlockingStub anonymous() {
    return RoomServiceGrpc.newBlockingStub(channel());
  }

  public RoomServiceGrpc.RoomServiceBlockingStub withRawToken(String token) {
    return withToken(RoomServiceGrpc.newBlockingStub(channel()), token);
  }

  public DemoAuthServiceGrpc.DemoAuthServiceBlockingStub demoAuth() {
    return DemoAuthServiceGrpc.newBlockingStub(channel());
  }

  public CatalogServiceGrpc.CatalogServiceBlockingStub catalogAs(String userId) {
    return withToken(CatalogServiceGrpc.newBlockingStub(channel()), token(userId));
  }

  public CatalogAdminServiceGrpc.CatalogAdminServiceBlockingStub catalogAdminAs(String userId) {
    return withToken(CatalogAdminServiceGrpc.newBlockingStub(channel()), token(userId));
  }

  public static <S extends AbstractStub<S>> S withToken(S stub, String token) {
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(bearer(token)));
  }

  /** Opens a room stream for a demo user (nothing sent yet). */
  public StreamProbe connect(String userId) {
    return connectWithToken(userId, token(userId), false);
  }

  /** A stream whose reader takes the first message and then never reads again. */
  public StreamProbe connectStalled(String userId) {
    return connectWithToken(userId, token(userId), true);
  }

  /** Opens a room stream with any authorization value (or none, if {@code token} is null). */
  public StreamProbe connectWithToken(String label, String token, boolean stalled) {
    StreamProbe probe = new StreamProbe(label, stalled);
    var stub = RoomServiceGrpc.newStub(channel());
    (token == null ? stub : withToken(stub, token)).connect(probe);
    probes.add(probe);
    return probe;
  }

  /** Creates a room for {@code big-buck-bunny} (596 s). */
  public CreateRoomResponse createRoom(
      String hostUserId, Visibility visibility, HostLeavePolicy policy) {
    return as(hostUserId)
        .createRoom(
            CreateRoomRequest.newBuilder()
                .setTitleId("big-buck-bunny")
                .setName(hostUserId + "'s party")
                .setSettings(
                    RoomSettings.newBuilder().setVisibility(visibility).setHostLeavePolicy(policy))
                .build());
  }

  public CreateRoomResponse createRoom(String hostUserId, Visibility visibility) {
    return createRoom(hostUserId, visibility, HostLeavePolicy.TRANSFER_HOST);
  }

  /** Stops this server (streams still open end) and starts a new one on the same keyspace. */
  public void restart() {
    stop();
    open();
  }

  private void stop() {
    if (server == null) {
      return; // it never started, or it is closed already
    }
    channel.shutdownNow();
    server.close();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    server = null;
    channel = null;
  }

  /** Drops every stream the tests left open, so the server can stop at once. */
  private void disconnectAll() {
    for (StreamProbe probe : probes) {
      if (!probe.ended()) {
        probe.disconnect();
      }
    }
    probes.clear();
  }

  @Override
  public void close() {
    disconnectAll();
    stop();
    if (ownsSession) {
      ownsSession = false;
      session.close();
    }
  }

  private static <T> T requireStarted(T part) {
    if (part == null) {
      throw new IllegalStateException(
          "the TestServer has not started: register it with @RegisterExtension, or start it");
    }
    return part;
  }
}
