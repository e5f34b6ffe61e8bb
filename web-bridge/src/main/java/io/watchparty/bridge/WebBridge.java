package io.watchparty.bridge;

import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.observe.ObserveFeature;
import io.helidon.webserver.observe.health.HealthObserver;
import io.helidon.webserver.observe.metrics.MetricsObserver;
import io.watchparty.bridge.relay.RelayHub;
import io.watchparty.bridge.relay.RoomOwners;
import java.net.URI;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running web bridge: the HTTP server, the relays and the upstream channel they use, started
 * together and stopped together.
 *
 * <p>What it serves: the web page ({@link WebPage}), the browser API ({@link BrowserApi}), one SSE
 * stream per browser and room ({@link EventStreams}) fed by one upstream relay stream per room
 * ({@link RelayHub}) at the server instance that owns the room ({@link RoomOwners}), and on a port
 * of their own ({@link BridgeSettings#observePort()}) health and metrics. {@link #close()} ends the
 * browsers' streams first (they reconnect to another bridge, or to this one after a restart), then
 * stops taking requests, and closes the channel last, so that requests in flight can still reach
 * the gRPC server.
 */
public final class WebBridge implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebBridge.class);

  /** The name of the listener of health and metrics ({@link BridgeSettings#observePort()}). */
  private static final String OBSERVE_SOCKET = "observe";

  private final BridgeSettings settings;
  private final Upstream upstream;
  private final Parts parts;
  private final WebServer server;
  // Kept, as the server reports no port once stopped.
  private final int port;
  private final OptionalInt observePort;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** The bridge's working parts, built before the server and closed after it. */
  private record Parts(
      ScheduledExecutorService timers,
      RelayAccount relayAccount,
      UpstreamClock clock,
      BridgeMetrics metrics,
      RoomOwners owners,
      RelayHub hub,
      BrowserApi api,
      EventStreams streams,
      ClosedConnections connections)
      implements AutoCloseable {

    static Parts build(BridgeSettings settings, Upstream upstream) {
      // Timers only hand work on (linger, reconnect, clock samples, the stall watch).
      ScheduledExecutorService timers =
          Executors.newSingleThreadScheduledExecutor(
              Thread.ofPlatform().name("bridge-timers").daemon().factory());
      RelayAccount relayAccount = RelayAccount.start(settings.relayToken(), upstream, timers);
      UpstreamClock clock = new UpstreamClock(upstream, relayAccount.credentials(), timers);
      BridgeMetrics metrics = new BridgeMetrics();
      // The fleet's instances, dialled when the servers say a room is owned there.
      RoomOwners owners =
          new RoomOwners(
              upstream.channel(),
              upstream.address(),
              address -> Upstream.dial(BridgeSettings.Address.parse(address)),
              metrics);
      RoomCalls rooms = new RoomCalls(owners);
      RelayHub hub =
          new RelayHub(
              owners,
              relayAccount.credentials(),
              settings.relay(),
              timers,
              metrics,
              new TitleWatchability(upstream),
              () -> (long) clock.serverNowMs());
      metrics.watch(hub);
      Sessions sessions = new Sessions(upstream);
      Invites invites = new Invites();
      EndedStreams ended = new EndedStreams();
      ClosedConnections connections = new ClosedConnections();
      return new Parts(
          timers,
          relayAccount,
          clock,
          metrics,
          owners,
          hub,
          new BrowserApi(upstream, rooms, sessions, invites, ended, hub, clock),
          new EventStreams(
              rooms, sessions, invites, ended, hub, settings, metrics, connections, timers),
          connections);
    }

    void routing(HttpRouting.Builder routing, boolean testHook) {
      HttpErrors.register(routing, metrics::refused);
      routing.addFilter(new CrossSiteGuard());
      routing.register("/api", streams);
      routing.register("/api", api);
      WebPage.register(routing, testHook);
    }

    @Override
    public void close() {
      streams.close();
      clock.close();
      relayAccount.close();
      timers.shutdownNow();
      owners.close();
      metrics.close();
    }
  }

  private WebBridge(BridgeSettings settings, Upstream upstream, Parts parts, WebServer server) {
    this.settings = settings;
    this.upstream = upstream;
    this.parts = parts;
    this.server = server;
    this.port = server.port();
    this.observePort =
        settings.observePort() >= 0
            ? OptionalInt.of(server.port(OBSERVE_SOCKET))
            : OptionalInt.empty();
  }

  /**
   * Connects to {@code settings.upstream()} and starts serving HTTP on {@code settings.host()} and
   * {@code settings.port()}, and health and metrics on {@code settings.observePort()}.
   *
   * @throws IllegalStateException when the server cannot listen (say the port is taken); nothing is
   *     left running then
   */
  public static WebBridge start(BridgeSettings settings) {
    return start(settings, Upstream.connect(settings.upstream()));
  }

  /** Starts serving over an upstream the caller made; the bridge owns and closes it. */
  static WebBridge start(BridgeSettings settings, Upstream upstream) {
    Parts parts = null;
    try {
      parts = Parts.build(settings, upstream);
      Parts routed = parts;
      WebServerConfig.Builder builder =
          WebServer.builder()
              .host(settings.host())
              .port(settings.port())
              // Main stops the whole bridge from its own hook, in order; Helidon's would stop only
              // the server.
              .shutdownHook(false)
              // Exactly the features below, not whatever happens to be on the class path.
              .featuresDiscoverServices(false)
              // A body the API would refuse is still read to its end (UnreadBodies): bounded here.
              .maxPayloadSize(JsonBodies.MAX_PAYLOAD)
              .connectionOptions(
                  options -> {
                    if (settings.sendBuffer() > 0) {
                      options.socketSendBufferSize(settings.sendBuffer());
                    }
                  })
              .directHandlers(HttpErrors.directHandlers())
              // Tells the event streams which connection each request came over.
              .addProtocol(Http1Config.builder().addReceiveListener(parts.connections()).build())
              .routing(routing -> routed.routing(routing, settings.testHook()));
      if (settings.observePort() >= 0) {
        // Health and metrics are for operators: a port of their own, never the public one.
        builder
            .putSocket(
                OBSERVE_SOCKET,
                socket ->
                    socket
                        .host(settings.host())
                        .port(settings.observePort())
                        .routing(routing -> HttpErrors.register(routing)))
            .addFeature(observe(upstream));
      }
      WebServer server = builder.build().start();
      if (!server.isRunning()) {
        // Helidon logs why (say the port is taken) and returns a stopped server instead of failing.
        throw new IllegalStateException(
            "The web bridge could not listen on "
                + settings.baseUri(settings.port())
                + (settings.observePort() >= 0
                    ? " and " + settings.baseUri(settings.observePort()) + " (health and metrics)"
                    : "")
                + "; the log above says why.");
      }
      WebBridge bridge = new WebBridge(settings, upstream, parts, server);
      log.info(
          "Web bridge listening on {} (health and metrics: {}), relaying {}",
          bridge.uri(),
          bridge.observeUri().map(URI::toString).orElse("off"),
          upstream.address());
      return bridge;
    } catch (RuntimeException e) {
      if (parts != null) {
        parts.hub().close();
        parts.close();
      }
      upstream.close();
      throw e;
    }
  }

  /**
   * {@code /observe/health} (liveness, readiness) and {@code /observe/metrics} (Prometheus), on the
   * observe socket only.
   */
  private static ObserveFeature observe(Upstream upstream) {
    return ObserveFeature.builder()
        .sockets(List.of(OBSERVE_SOCKET))
        .observersDiscoverServices(false)
        .addObserver(
            HealthObserver.builder()
                // Without details Helidon answers an UP probe with an empty 204; the details say
                // which upstream is checked and what it answered.
                .details(true)
                .useSystemServices(false)
                .addCheck(new UpstreamHealthCheck(upstream))
                .build())
        // Prometheus text: the JVM meters of helidon-metrics-system-meters, Helidon's own
        // requests.count counter of every HTTP request, and the bridge's (BridgeMetrics).
        .addObserver(MetricsObserver.create())
        .build();
  }

  /** The port the server listens on; the one the system picked when the settings said 0. */
  public int port() {
    return port;
  }

  /** The base URI of the bridge, e.g. {@code http://127.0.0.1:8080}. */
  public URI uri() {
    return URI.create(settings.baseUri(port()));
  }

  /**
   * The base URI of health and metrics ({@code /observe/health}, {@code /observe/metrics}); empty
   * when the settings turned them off.
   */
  public Optional<URI> observeUri() {
    return observePort.isPresent()
        ? Optional.of(URI.create(settings.baseUri(observePort.getAsInt())))
        : Optional.empty();
  }

  /** Whether the HTTP server is running. */
  public boolean isRunning() {
    return server.isRunning();
  }

  /** The relays; tests look at how many upstream streams there are. */
  RelayHub relays() {
    return parts.hub();
  }

  /**
   * Ends every browser stream (EventSource reconnects elsewhere), stops taking requests, lets
   * running ones finish, then closes the upstream channel.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      parts.hub().close();
      server.stop();
    } finally {
      parts.close();
      upstream.close();
      log.info("Web bridge on port {} stopped", port);
    }
  }
}
