package io.watchparty.server.rpc;

import com.datastax.oss.driver.api.core.CqlSession;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
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
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A {@link WatchPartyServer} on the in-process transport, over a real Cassandra session, with
 * clients for the demo users. {@link #restart()} replaces the server by a new one on the same
 * keyspace, as a deployment would.
 */
public final class TestServer implements AutoCloseable {
  public static final String SECRET = "watchparty-integration-tests-0123456789abcdef";
  public static final URI LINKS = URI.create("https://watch.example.test");

  private final CqlSession session;
  private final RoomConfig config;
  private final ChatSettings chat;
  private final Clock clock;
  private final List<StreamProbe> probes = new CopyOnWriteArrayList<>();
  private WatchPartyServer server;
  private ManagedChannel channel;

  private TestServer(CqlSession session, RoomConfig config, ChatSettings chat, Clock clock) {
    this.session = session;
    this.config = config;
    this.chat = chat;
    this.clock = clock;
    open();
  }

  public static TestServer start(CqlSession session, RoomConfig config, Clock clock) {
    return start(session, config, ChatSettings.DEFAULTS, clock);
  }

  public static TestServer start(
      CqlSession session, RoomConfig config, ChatSettings chat, Clock clock) {
    return new TestServer(session, config, chat, clock);
  }

  public static TestServer start(CqlSession session, RoomConfig config) {
    return start(session, config, Clock.systemUTC());
  }

  public static ServerSettings settings(RoomConfig config) {
    return settings(config, ChatSettings.DEFAULTS);
  }

  public static ServerSettings settings(RoomConfig config, ChatSettings chat) {
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
        chat);
  }

  private void open() {
    String name = "watchparty-" + UUID.randomUUID();
    server =
        WatchPartyServer.start(
            InProcessServerBuilder.forName(name).directExecutor(),
            session,
            settings(config, chat),
            clock);
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  public WatchPartyServer server() {
    return server;
  }

  public RoomConfig config() {
    return config;
  }

  /** A token for a demo user, signed by this server. */
  public String token(String userId) {
    return server.tokens().issue(DemoUsers.find(userId).orElseThrow(), Duration.ofHours(1));
  }

  public static Metadata bearer(String token) {
    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    return headers;
  }

  public RoomServiceGrpc.RoomServiceBlockingStub as(String userId) {
    return withToken(RoomServiceGrpc.newBlockingStub(channel), token(userId));
  }

  public ChatServiceGrpc.ChatServiceBlockingStub chatAs(String userId) {
    return withToken(ChatServiceGrpc.newBlockingStub(channel), token(userId));
  }

  /** The client channel, for calls the generated stubs cannot make (e.g. malformed requests). */
  public Channel channel() {
    return channel;
  }

  public RoomServiceGrpc.RoomServiceBlockingStub anonymous() {
    return RoomServiceGrpc.newBlockingStub(channel);
  }

  public RoomServiceGrpc.RoomServiceBlockingStub withRawToken(String token) {
    return withToken(RoomServiceGrpc.newBlockingStub(channel), token);
  }

  public DemoAuthServiceGrpc.DemoAuthServiceBlockingStub demoAuth() {
    return DemoAuthServiceGrpc.newBlockingStub(channel);
  }

  public CatalogServiceGrpc.CatalogServiceBlockingStub catalogAs(String userId) {
    return withToken(CatalogServiceGrpc.newBlockingStub(channel), token(userId));
  }

  public CatalogAdminServiceGrpc.CatalogAdminServiceBlockingStub catalogAdminAs(String userId) {
    return withToken(CatalogAdminServiceGrpc.newBlockingStub(channel), token(userId));
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
    var stub = RoomServiceGrpc.newStub(channel);
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
    channel.shutdownNow();
    server.close();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Drops every stream the tests left open, so the server can stop at once. */
  public void disconnectAll() {
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
  }
}
