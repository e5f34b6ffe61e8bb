package io.watchparty.client;

import io.grpc.Channel;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.watchparty.proto.Backoff;
import io.watchparty.proto.v1.ChatServiceGrpc;
import io.watchparty.proto.v1.CountUnableToWatchRequest;
import io.watchparty.proto.v1.CountUnableToWatchResponse;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.CreateRoomResponse;
import io.watchparty.proto.v1.GetRoomRequest;
import io.watchparty.proto.v1.LeaveRoomRequest;
import io.watchparty.proto.v1.ListChatHistoryRequest;
import io.watchparty.proto.v1.ListMyRoomsRequest;
import io.watchparty.proto.v1.ListPublicRoomsRequest;
import io.watchparty.proto.v1.ListPublicRoomsResponse;
import io.watchparty.proto.v1.RoomInfo;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.RotateInviteRequest;
import io.watchparty.proto.v1.RotateInviteResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The WatchParty client for native apps: one signed-in user on one gRPC channel. It creates, lists
 * and joins rooms, pages chat history, and {@linkplain #join joins} rooms as {@link
 * RoomConnection}s, which keep players in sync and resume after dropped connections.
 *
 * <pre>{@code
 * ManagedChannel channel = Grpc.newChannelBuilder("localhost:8443", creds).build();
 * try (WatchPartyClient client = WatchPartyClient.builder(channel, token).build()) {
 *   RoomConnection room = client.join(roomId, listener);
 *   room.attachPlayer(myPlayer);
 *   room.joined().join();
 *   room.play();
 * }
 * }</pre>
 *
 * <p>Every call carries {@code authorization: Bearer <token>} metadata. The app owns the channel
 * (closing the client does not shut it down).
 *
 * <p>Thread safety: thread-safe. Every method returns at once; the work runs on the client's own
 * single thread (a daemon), which also calls listeners and players and completes the futures. No
 * gRPC thread ever runs app code or blocks: gRPC callbacks only hand work to that thread.
 */
public final class WatchPartyClient implements AutoCloseable {
  /**
   * How many times a call about a room follows {@code ROOM_MOVED} to the instance it names: a room
   * moves once per takeover or handover, so more than a few in a row means views that disagree,
   * which a later call settles.
   */
  private static final int MAX_MOVES = 3;

  /** The services of one server instance. */
  private record Stubs(
      RoomServiceGrpc.RoomServiceStub rooms, ChatServiceGrpc.ChatServiceStub chat) {
    static Stubs over(Channel channel) {
      return new Stubs(RoomServiceGrpc.newStub(channel), ChatServiceGrpc.newStub(channel));
    }
  }

  /** The instance at the address the app gave. */
  private final Stubs home;

  private final ClientInterceptor bearer;
  private final Optional<Function<String, Channel>> dial;

  /** The fleet's other instances, by address, dialled when a room moved there. */
  private final Map<String, Stubs> instances = new ConcurrentHashMap<>();

  private final ScheduledExecutorService executor;
  private final Timers timers;
  private final LongSupplier localClock;
  private final Backoff backoff;
  private final int maxReconnectAttempts;
  private final Set<RoomConnection> connections = ConcurrentHashMap.newKeySet();

  private WatchPartyClient(Builder builder) {
    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
        "Bearer " + builder.token);
    this.bearer = MetadataUtils.newAttachHeadersInterceptor(headers);
    this.dial = builder.dial;
    Channel channel = ClientInterceptors.intercept(builder.channel, bearer);
    this.home = Stubs.over(channel);
    var thread =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "watchparty-client");
              t.setDaemon(true);
              return t;
            });
    // Closing ends the client's timers with it.
    thread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.executor = thread;
    this.timers = Timers.on(executor);
    this.localClock = builder.localClock;
    this.backoff = builder.backoff;
    this.maxReconnectAttempts = builder.maxReconnectAttempts;
  }

  /**
   * A builder for a client of {@code channel} signed in with {@code token} (a JWT from the
   * platform's sign-in, or a demo token).
   */
  public static Builder builder(Channel channel, String token) {
    return new Builder(channel, token);
  }

  /** How the client is made. Not thread-safe: build it on one thread. */
  public static final class Builder {
    private final Channel channel;
    private final String token;
    private Backoff backoff = Backoff.doubling(Duration.ofMillis(250), Duration.ofSeconds(10));
    private int maxReconnectAttempts = 12;
    private LongSupplier localClock = monotonicWallClock();
    private Optional<Function<String, Channel>> dial = Optional.empty();

    private Builder(Channel channel, String token) {
      this.channel = Objects.requireNonNull(channel, "channel");
      this.token = Objects.requireNonNull(token, "token");
      if (token.isBlank()) {
        throw new IllegalArgumentException("token must not be blank");
      }
    }

    /**
     * Reconnect delays: attempt n waits a uniform random time in [0, min(cap, base x 2^n)] (full
     * jitter). Defaults: 250 ms and 10 s.
     */
    public Builder reconnectBackoff(Duration base, Duration cap) {
      backoff = Backoff.doubling(base, cap); // refuses 0 >= base or cap < base, naming them
      return this;
    }

    /**
     * How many reconnects in a row a connection tries before it gives up ({@link
     * ConnectionState#GAVE_UP}); default 12. A successful resume starts the count again.
     */
    public Builder maxReconnectAttempts(int attempts) {
      if (attempts < 0) {
        throw new IllegalArgumentException(
            "max reconnect attempts must not be negative: " + attempts);
      }
      maxReconnectAttempts = attempts;
      return this;
    }

    /**
     * How to reach another server instance of a fleet by its address (host:port), as a refusal
     * {@code ROOM_MOVED} names the instance that owns a room now: the app's own channel builder,
     * with its credentials. A room connection told that its room moved then reconnects there at
     * once and resumes. Without it, the connection reconnects through the client's channel, as
     * after any dropped stream (a load balancer in front of the fleet may send it right). The app
     * owns the channels it returns.
     */
    public Builder instances(Function<String, Channel> dial) {
      this.dial = Optional.of(Objects.requireNonNull(dial, "dial"));
      return this;
    }

    /** Tests: this machine's clock in epoch milliseconds (default: a monotonic wall clock). */
    Builder localClock(LongSupplier clock) {
      localClock = Objects.requireNonNull(clock);
      return this;
    }

    /** The client; close it when done. */
    public WatchPartyClient build() {
      return new WatchPartyClient(this);
    }
  }

  /** Epoch milliseconds that a wall-clock step on this machine does not move. */
  private static LongSupplier monotonicWallClock() {
    long originMs = System.currentTimeMillis();
    long originNanos = System.nanoTime();
    return () -> originMs + (System.nanoTime() - originNanos) / 1_000_000;
  }

  /** Creates a room for {@code titleId} named {@code name}; the caller becomes its host. */
  public CompletableFuture<CreateRoomResponse> createRoom(
      String titleId, String name, RoomSettings settings) {
    CreateRoomRequest request =
        CreateRoomRequest.newBuilder()
            .setTitleId(titleId)
            .setName(name)
            .setSettings(settings)
            .build();
    return unary(observer -> home.rooms().createRoom(request, observer));
  }

  /** A room's public description ({@code inviteToken} for a private room, if any). */
  public CompletableFuture<RoomInfo> getRoom(String roomId, Optional<String> inviteToken) {
    GetRoomRequest.Builder request = GetRoomRequest.newBuilder().setRoomId(roomId);
    inviteToken.ifPresent(request::setInviteToken);
    return aboutRoom((at, observer) -> at.rooms().getRoom(request.build(), observer));
  }

  /** One page of public rooms, busiest first ({@code pageToken} empty for the first page). */
  public CompletableFuture<ListPublicRoomsResponse> listPublicRooms(
      int pageSize, Optional<String> pageToken) {
    ListPublicRoomsRequest.Builder request =
        ListPublicRoomsRequest.newBuilder().setPageSize(pageSize);
    pageToken.ifPresent(request::setPageToken);
    return unary(observer -> home.rooms().listPublicRooms(request.build(), observer));
  }

  /**
   * The caller's open parties: rooms they host, or joined and did not leave for good, most recently
   * created first ({@code can_watch} says whether the caller's region may watch each one's title
   * now). A dropped connection does not take a party off the list.
   */
  public CompletableFuture<List<RoomInfo>> listMyRooms() {
    return this.<io.watchparty.proto.v1.ListMyRoomsResponse>unary(
            observer -> home.rooms().listMyRooms(ListMyRoomsRequest.getDefaultInstance(), observer))
        .thenApply(response -> response.getRoomsList());
  }

  /**
   * Leaves a room for good without joining it (the caller's place and role go, and it leaves {@link
   * #listMyRooms}). A joined {@link RoomConnection} leaves with {@link RoomConnection#leave}
   * instead.
   */
  public CompletableFuture<Void> leaveRoom(String roomId) {
    LeaveRoomRequest request = LeaveRoomRequest.newBuilder().setRoomId(roomId).build();
    return this.<io.watchparty.proto.v1.LeaveRoomResponse>aboutRoom(
            (at, observer) -> at.rooms().leaveRoom(request, observer))
        .thenApply(response -> null);
  }

  /**
   * Host only: a new invite token (and share link) for a private room; the old link stops working.
   */
  public CompletableFuture<RotateInviteResponse> rotateInvite(String roomId) {
    RotateInviteRequest request = RotateInviteRequest.newBuilder().setRoomId(roomId).build();
    return aboutRoom((at, observer) -> at.rooms().rotateInvite(request, observer));
  }

  /**
   * Host and co-hosts: how many present members could not watch {@code titleId} in their region
   * now, asked before changing the room's title to it.
   */
  public CompletableFuture<CountUnableToWatchResponse> countUnableToWatch(
      String roomId, String titleId) {
    CountUnableToWatchRequest request =
        CountUnableToWatchRequest.newBuilder().setRoomId(roomId).setTitleId(titleId).build();
    return aboutRoom((at, observer) -> at.rooms().countUnableToWatch(request, observer));
  }

  /**
   * One page of a room's chat history, newest first: {@code pageToken} empty for the newest page,
   * else the previous page's {@link ChatPage#nextPageToken}.
   */
  public CompletableFuture<ChatPage> chatHistory(
      String roomId, int pageSize, Optional<String> pageToken) {
    ListChatHistoryRequest.Builder request =
        ListChatHistoryRequest.newBuilder().setRoomId(roomId).setPageSize(pageSize);
    pageToken.ifPresent(request::setPageToken);
    return this.<io.watchparty.proto.v1.ListChatHistoryResponse>aboutRoom(
            (at, observer) -> at.chat().listChatHistory(request.build(), observer))
        .thenApply(
            page ->
                new ChatPage(
                    page.getMessagesList(),
                    page.getNextPageToken().isEmpty()
                        ? Optional.empty()
                        : Optional.of(page.getNextPageToken())));
  }

  /** Joins a public room (or one the caller is a member of); see {@link RoomConnection}. */
  public RoomConnection join(String roomId, RoomListener listener) {
    return join(roomId, Optional.empty(), listener);
  }

  /**
   * Joins a room, with the invite token of a private room's link; events go to {@code listener}.
   * Returns at once: {@link RoomConnection#joined} completes once joined.
   */
  public RoomConnection join(String roomId, Optional<String> inviteToken, RoomListener listener) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(listener, "listener");
    RoomConnection connection =
        new RoomConnection(this, roomId, inviteToken.orElse(null), listener);
    connections.add(connection);
    connection.start();
    return connection;
  }

  /**
   * Drops every room connection without leaving (members keep their place for the server's grace
   * period) and stops the client's thread. The channel stays open: it is the app's.
   */
  @Override
  public void close() {
    connections.forEach(RoomConnection::close);
    executor.execute(executor::shutdown);
  }

  // ---- For RoomConnection
  // -------------------------------------------------------------------------

  RoomServiceGrpc.RoomServiceStub roomStub() {
    return home.rooms();
  }

  /**
   * The room service of the instance a {@code ROOM_MOVED} refusal names, if the app said how to
   * dial one; empty for any other refusal.
   */
  Optional<RoomServiceGrpc.RoomServiceStub> roomStubMovedTo(Refusal refusal) {
    return movedTo(refusal).map(Stubs::rooms);
  }

  private Optional<Stubs> movedTo(Refusal refusal) {
    String address = refusal.metadata().get("owner_address");
    if (!refusal.isMove() || address == null || address.isEmpty() || dial.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        instances.computeIfAbsent(
            address, a -> Stubs.over(ClientInterceptors.intercept(dial.get().apply(a), bearer))));
  }

  Timers timers() {
    return timers;
  }

  LongSupplier localClock() {
    return localClock;
  }

  Backoff backoff() {
    return backoff;
  }

  int maxReconnectAttempts() {
    return maxReconnectAttempts;
  }

  void forget(RoomConnection connection) {
    connections.remove(connection);
  }

  /**
   * A unary call about one room, made at the instance the app gave: a {@code ROOM_MOVED} refusal
   * naming an instance the client can dial (see {@link Builder#instances}) makes it again there, as
   * a room connection follows its room, up to {@link #MAX_MOVES} times.
   */
  private <T> CompletableFuture<T> aboutRoom(BiConsumer<Stubs, StreamObserver<T>> call) {
    return aboutRoom(call, home, MAX_MOVES);
  }

  private <T> CompletableFuture<T> aboutRoom(
      BiConsumer<Stubs, StreamObserver<T>> call, Stubs at, int movesLeft) {
    return this.<T>unary(observer -> call.accept(at, observer))
        .exceptionallyCompose(
            failure -> {
              Optional<Stubs> owner =
                  failure instanceof WatchPartyException refused && movesLeft > 0
                      ? movedTo(refused.refusal())
                      : Optional.empty();
              return owner
                  .map(next -> aboutRoom(call, next, movesLeft - 1))
                  .orElseGet(() -> CompletableFuture.failedFuture(failure));
            });
  }

  /** A unary call whose result completes the future on the client's thread, not gRPC's. */
  private <T> CompletableFuture<T> unary(Consumer<StreamObserver<T>> call) {
    CompletableFuture<T> result = new CompletableFuture<>();
    call.accept(
        new StreamObserver<>() {
          @Override
          public void onNext(T value) {
            timers.execute(() -> result.complete(value));
          }

          @Override
          public void onError(Throwable failure) {
            var refused = new WatchPartyException(Refusal.of(failure));
            timers.execute(() -> result.completeExceptionally(refused));
          }

          @Override
          public void onCompleted() {}
        });
    return result;
  }
}
