package io.watchparty.bridge;

import io.helidon.webserver.WebServer;
import io.helidon.webserver.observe.ObserveFeature;
import io.helidon.webserver.observe.health.HealthObserver;
import io.helidon.webserver.observe.metrics.MetricsObserver;
import java.net.URI;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running web bridge: the HTTP server and the upstream channel it uses, started together and
 * stopped together. {@link #close()} stops taking requests first and closes the channel last, so
 * that requests in flight can still reach the gRPC server.
 */
public final class WebBridge implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebBridge.class);

  private final BridgeSettings settings;
  private final Upstream upstream;
  private final WebServer server;
  // Kept, as the server reports no port once stopped.
  private final int port;
  private final AtomicBoolean closed = new AtomicBoolean();

  private WebBridge(BridgeSettings settings, Upstream upstream, WebServer server) {
    this.settings = settings;
    this.upstream = upstream;
    this.server = server;
    this.port = server.port();
  }

  /**
   * Connects to {@code settings.upstream()} and starts serving HTTP on {@code settings.host()} and
   * {@code settings.port()}.
   *
   * @throws IllegalStateException when the server cannot listen (say the port is taken); nothing is
   *     left running then
   */
  public static WebBridge start(BridgeSettings settings) {
    return start(settings, Upstream.connect(settings.upstream()));
  }

  /** Starts serving over an upstream the caller made; the bridge owns and closes it. */
  static WebBridge start(BridgeSettings settings, Upstream upstream) {
    try {
      WebServer server =
          WebServer.builder()
              .host(settings.host())
              .port(settings.port())
              // Main stops the whole bridge from its own hook, in order; Helidon's would stop only
              // the server.
              .shutdownHook(false)
              // Exactly the features below, not whatever happens to be on the class path.
              .featuresDiscoverServices(false)
              .addFeature(observe(upstream))
              .directHandlers(HttpErrors.directHandlers())
              .routing(routing -> Main.routing(routing, upstream))
              .build()
              .start();
      if (!server.isRunning()) {
        // Helidon logs why (say the port is taken) and returns a stopped server instead of failing.
        throw new IllegalStateException(
            "The web bridge could not listen on "
                + settings.baseUri(settings.port())
                + "; the log above says why.");
      }
      WebBridge bridge = new WebBridge(settings, upstream, server);
      log.info("Web bridge listening on {}, relaying {}", bridge.uri(), upstream.address());
      return bridge;
    } catch (RuntimeException e) {
      upstream.close();
      throw e;
    }
  }

  /** {@code /observe/health} (liveness, readiness) and {@code /observe/metrics} (Prometheus). */
  private static ObserveFeature observe(Upstream upstream) {
    return ObserveFeature.builder()
        .observersDiscoverServices(false)
        .addObserver(
            HealthObserver.builder()
                // Without details Helidon answers an UP probe with an empty 204; the details say
                // which upstream is checked and what it answered.
                .details(true)
                .useSystemServices(false)
                .addCheck(new UpstreamHealthCheck(upstream))
                .build())
        // Prometheus text: the JVM meters of helidon-metrics-system-meters and Helidon's own
        // requests.count counter of every HTTP request.
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

  /** Whether the HTTP server is running. */
  public boolean isRunning() {
    return server.isRunning();
  }

  /** Stops taking requests, lets running ones finish, then closes the upstream channel. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      server.stop();
    } finally {
      upstream.close();
      log.info("Web bridge on port {} stopped", port);
    }
  }
}
