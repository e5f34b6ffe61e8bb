package io.watchparty.server;

import com.datastax.oss.driver.api.core.CqlSession;
import com.github.benmanes.caffeine.cache.Ticker;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.watchparty.proto.v1.AccountServiceGrpc;
import io.watchparty.proto.v1.CatalogAdminServiceGrpc;
import io.watchparty.proto.v1.CatalogServiceGrpc;
import io.watchparty.proto.v1.ChatServiceGrpc;
import io.watchparty.proto.v1.DemoAuthServiceGrpc;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.server.auth.TokenService;
import io.watchparty.server.catalog.AvailabilityMatrix;
import io.watchparty.server.catalog.DemoCatalog;
import io.watchparty.server.catalog.TitleCatalog;
import io.watchparty.server.chat.ChatRooms;
import io.watchparty.server.room.Instances;
import io.watchparty.server.room.RoomRegistry;
import io.watchparty.server.rpc.AccountService;
import io.watchparty.server.rpc.AuthInterceptor;
import io.watchparty.server.rpc.CallMetrics;
import io.watchparty.server.rpc.CatalogAdminService;
import io.watchparty.server.rpc.CatalogService;
import io.watchparty.server.rpc.ChatService;
import io.watchparty.server.rpc.DemoAuthService;
import io.watchparty.server.rpc.ErrorInterceptor;
import io.watchparty.server.rpc.ErrorMapper;
import io.watchparty.server.rpc.RoomService;
import io.watchparty.server.rpc.ShareLinks;
import io.watchparty.server.rpc.Utf8Guard;
import io.watchparty.server.store.CassandraAvailabilityStore;
import io.watchparty.server.store.CassandraChatLog;
import io.watchparty.server.store.CassandraInstances;
import io.watchparty.server.store.CassandraRoomStore;
import io.watchparty.server.store.CassandraTitleStore;
import io.watchparty.server.store.StorageFailures;
import io.watchparty.server.store.StorageHealth;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC server with all its services, built on a transport it is given (Netty in production,
 * in-process in tests), so tests run the very same wiring.
 */
public final class WatchPartyServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WatchPartyServer.class);

  /**
   * Services that cannot do their work while Cassandra is down: chat is stored before it is sent,
   * the catalog is listed and changed in Cassandra.
   */
  public static final List<String> NEEDS_STORAGE =
      List.of(
          ChatServiceGrpc.SERVICE_NAME,
          CatalogServiceGrpc.SERVICE_NAME,
          CatalogAdminServiceGrpc.SERVICE_NAME);

  /**
   * Services that go on without Cassandra: rooms in memory keep playing (their changes are written
   * once it is back), accounts and demo tokens need no storage.
   */
  static final List<String> SERVES_WITHOUT_STORAGE =
      List.of(
          RoomServiceGrpc.SERVICE_NAME,
          AccountServiceGrpc.SERVICE_NAME,
          DemoAuthServiceGrpc.SERVICE_NAME);

  private static final Duration HEALTH_INTERVAL = Duration.ofSeconds(1);

  private final Server server;
  private final HealthStatusManager health = new HealthStatusManager();
  private final ScheduledExecutorService timers;

  /** How long a stopping instance waits for its rooms' writes before it hands them over. */
  private static final Duration HANDOVER_TIMEOUT = Duration.ofSeconds(3);

  private final ExecutorService drainExecutor;
  private final ExecutorService streamWriters;
  private final ExecutorService chatExecutor;
  private final ExecutorService callExecutor;
  private final RoomRegistry rooms;
  private final CassandraInstances instances;
  private final TitleCatalog catalog;
  private final AvailabilityMatrix availability;
  private final TokenService tokens;
  private final RoomService roomService;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final StorageHealth storage;
  private final String id = UUID.randomUUID().toString().substring(0, 8);

  /** Where the handlers of calls run. */
  public enum CallThreads {
    /**
     * The server's own: a bounded pool of platform threads, none of which waits. What production
     * runs.
     */
    SERVER_POOLS,
    /**
     * Whatever executor the transport was built with; with an in-process transport on {@code
     * directExecutor}, the thread that made the call, so that tests see each call's effects in the
     * order they made them.
     */
    TRANSPORT
  }

  private WatchPartyServer(
      ServerBuilder<?> transport,
      CqlSession session,
      ServerSettings settings,
      Clock clock,
      CallThreads calls) {
    Ticker ticker = Ticker.systemTicker();
    var scheduler =
        new ScheduledThreadPoolExecutor(1, Thread.ofPlatform().name("room-timers").factory());
    // Rooms cancel their timers when they retire: a cancelled task must not stay queued (and keep
    // its room reachable) until its delay runs out.
    scheduler.setRemoveOnCancelPolicy(true);
    this.timers = scheduler;
    // Work handed off the driver's and the transport's threads (room work after a Cassandra
    // completion, availability loads): virtual threads, as it may wait for a room's lock.
    this.drainExecutor = Executors.newVirtualThreadPerTaskExecutor();
    // Writing queued frames to streams never blocks (a drain writes only while the transport is
    // ready, and a slow stream is resumed by its onReady), so a few platform threads serve every
    // stream. A virtual thread per drain made Netty build a pooled-buffer thread cache for each
    // drain: a fifth of the server's CPU with 10,000 streams in the load test's JFR profile.
    this.streamWriters =
        Executors.newFixedThreadPool(
            Runtime.getRuntime().availableProcessors(),
            Thread.ofPlatform().name("stream-writer-", 0).daemon().factory());
    // Stored chat messages are released into their room, and their senders answered, on a few
    // platform threads: that step waits for nothing but the room lock, and a virtual thread per
    // completion made Netty build a pooled-buffer thread cache for every unary reply it serialized
    // (a tenth of those threads' samples in the chat load test's JFR profile).
    this.chatExecutor =
        Executors.newFixedThreadPool(
            Runtime.getRuntime().availableProcessors(),
            Thread.ofPlatform().name("chat-", 0).daemon().factory());
    // Every call's handlers and listeners run on a bounded pool of platform threads: none of them
    // waits (rooms load, members are checked and chat is read asynchronously), so a reconnect storm
    // after a restart queues work instead of holding a thread per waiting caller, as gRPC's
    // default unbounded pool did.
    this.callExecutor =
        Executors.newFixedThreadPool(
            Math.max(4, 2 * Runtime.getRuntime().availableProcessors()),
            Thread.ofPlatform().name("grpc-call-", 0).daemon().factory());
    this.catalog =
        new TitleCatalog(
            new CassandraTitleStore(session),
            settings.catalogSize(),
            settings.catalogRefresh(),
            ticker,
            drainExecutor);
    this.availability =
        new AvailabilityMatrix(
            new CassandraAvailabilityStore(session),
            settings.catalogSize(),
            settings.catalogRefresh(),
            ticker,
            drainExecutor);
    if (settings.demoCatalog()) {
      DemoCatalog.install(catalog, availability, clock.instant()).join(); // at start: may wait
    }
    this.instances =
        new CassandraInstances(
            session,
            new Instances.Instance(id, address(settings, settings.grpcPort())),
            clock,
            this::roomsInMemory);
    this.rooms =
        new RoomRegistry(
            new CassandraRoomStore(session),
            instances,
            catalog::require,
            availability::of,
            settings.rooms(),
            clock,
            ticker,
            timers,
            drainExecutor,
            new ChatRooms(
                new CassandraChatLog(session, settings.chat(), clock),
                settings.chat(),
                clock,
                ticker,
                chatExecutor));
    // An admin change made through this server reaches the rooms playing that title at once.
    availability.onChange(rooms::availabilityChanged);
    ServerMetrics.register(id, catalog, availability, rooms);
    this.tokens = new TokenService(settings.auth(), clock);
    this.storage = new StorageHealth(session);
    var auth =
        new AuthInterceptor(
            tokens,
            Set.of(
                HealthGrpc.SERVICE_NAME,
                "grpc.reflection.v1.ServerReflection",
                "grpc.reflection.v1alpha.ServerReflection",
                DemoAuthServiceGrpc.SERVICE_NAME));
    var errors = new ErrorMapper(List.of(StorageFailures::refusalFor));
    this.roomService =
        new RoomService(
            rooms,
            new ShareLinks(settings.links()),
            clock,
            errors,
            streamWriters,
            settings.rooms().outboxCapacity());
    if (calls == CallThreads.SERVER_POOLS) {
      transport.executor(callExecutor);
    }
    this.server =
        transport
            // The last interceptor added runs first: metrics see the status the error interceptor
            // made of a failure, and the error interceptor maps what every service (and the auth
            // interceptor in front of it) throws.
            .intercept(new ErrorInterceptor(errors))
            .intercept(new CallMetrics(id))
            .addService(authenticated(roomService.serviceDefinition(), auth))
            .addService(authenticated(new ChatService(rooms).bindService(), auth))
            .addService(
                authenticated(new CatalogService(catalog, availability, clock).bindService(), auth))
            .addService(
                authenticated(new CatalogAdminService(catalog, availability).bindService(), auth))
            .addService(authenticated(new AccountService().bindService(), auth))
            .addService(
                Utf8Guard.guard(new DemoAuthService(tokens, settings.auth(), clock).bindService()))
            .addService(Utf8Guard.guard(health.getHealthService().bindService()))
            .addService(Utf8Guard.guard(ProtoReflectionServiceV1.newInstance().bindService()))
            .build();
  }

  /** A service behind the token check, whose requests are guarded against invalid UTF-8. */
  private static ServerServiceDefinition authenticated(
      ServerServiceDefinition service, AuthInterceptor auth) {
    return ServerInterceptors.intercept(Utf8Guard.guard(service), auth);
  }

  /**
   * Builds and starts the server; health reports SERVING once it listens, except for the services
   * that need Cassandra while it is down ({@link #NEEDS_STORAGE}), checked every second.
   */
  public static WatchPartyServer start(
      ServerBuilder<?> transport, CqlSession session, ServerSettings settings, Clock clock) {
    return start(transport, session, settings, clock, CallThreads.SERVER_POOLS);
  }

  /** As {@link #start(ServerBuilder, CqlSession, ServerSettings, Clock)}, choosing the threads. */
  public static WatchPartyServer start(
      ServerBuilder<?> transport,
      CqlSession session,
      ServerSettings settings,
      Clock clock,
      CallThreads calls) {
    var server = new WatchPartyServer(transport, session, settings, clock, calls);
    try {
      server.server.start();
    } catch (IOException e) {
      server.close();
      throw new UncheckedIOException("the gRPC server could not start: " + e.getMessage(), e);
    }
    server.instances.start(
        server.address(settings, server.port()), server.timers, server.rooms::confirmOwnership);
    // The server as a whole serves on without Cassandra: rooms and playback do not wait for it.
    server.health.setStatus("", ServingStatus.SERVING);
    for (String service : SERVES_WITHOUT_STORAGE) {
      server.health.setStatus(service, ServingStatus.SERVING);
    }
    server.updateHealth();
    server.timers.scheduleWithFixedDelay(
        server::updateHealth,
        HEALTH_INTERVAL.toMillis(),
        HEALTH_INTERVAL.toMillis(),
        TimeUnit.MILLISECONDS);
    return server;
  }

  private void updateHealth() {
    ServingStatus status = storage.available() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    for (String service : NEEDS_STORAGE) {
      health.setStatus(service, status); // a no-op for the watchers unless it changed
    }
  }

  /**
   * This server's id among the servers of its JVM and its fleet: the {@code server} tag of its
   * meters.
   */
  public String id() {
    return id;
  }

  /** This server as the other instances on its storage know it: its id and address. */
  public Instances.Instance instance() {
    return instances.self();
  }

  /** Whether Cassandra is up, as the health service reports it. */
  public StorageHealth storageHealth() {
    return storage;
  }

  private int roomsInMemory() {
    return rooms.loadedRooms();
  }

  /** Where clients reach this instance, listening on {@code port}. */
  private String address(ServerSettings settings, int port) {
    return port < 0 ? "in-process:" + id : settings.advertisedAddress(port);
  }

  /** The port the server listens on (-1 for in-process transports). */
  public int port() {
    return server.getPort();
  }

  public RoomRegistry rooms() {
    return rooms;
  }

  public TitleCatalog catalog() {
    return catalog;
  }

  public AvailabilityMatrix availability() {
    return availability;
  }

  public TokenService tokens() {
    return tokens;
  }

  /**
   * Stops taking calls; hands this instance's rooms to the other live instances of its fleet, if
   * any ({@link RoomRegistry#handOver}: their streams end {@code ROOM_MOVED} naming the successor);
   * ends every other room stream at once with {@code UNAVAILABLE} and {@code SERVER_SHUTTING_DOWN},
   * so clients reconnect now (to this server after a restart, or to another one); lets running
   * unary calls finish for a few seconds, then cancels the rest; and waits (bounded) for the rooms'
   * writes to Cassandra. The session stays open: its owner closes it after this.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    health.enterTerminalState();
    server.shutdown();
    rooms.handOver(HANDOVER_TIMEOUT);
    roomService.endStreamsForShutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
    if (!rooms.flush(Duration.ofSeconds(5))) {
      log.warn("Some playback changes were still being written to Cassandra at shutdown");
    }
    rooms.close();
    instances.close();
    timers.shutdownNow();
    drainExecutor.shutdownNow();
    streamWriters.shutdownNow();
    chatExecutor.shutdownNow();
    callExecutor.shutdownNow();
    log.info("gRPC server stopped");
  }
}
