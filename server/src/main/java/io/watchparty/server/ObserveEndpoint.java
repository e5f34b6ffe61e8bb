package io.watchparty.server;

import io.helidon.health.HealthCheck;
import io.helidon.health.HealthCheckResponse;
import io.helidon.health.HealthCheckType;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.observe.ObserveFeature;
import io.helidon.webserver.observe.health.HealthObserver;
import io.helidon.webserver.observe.metrics.MetricsObserver;
import io.watchparty.server.store.StorageHealth;

/**
 * The server's HTTP side port for operators: {@code /observe/health} (readiness includes the check
 * {@code cassandra}: whether a node is up, and when none is, which gRPC services are not serving)
 * and {@code /observe/metrics} in Prometheus text format.
 */
final class ObserveEndpoint implements AutoCloseable {
  private final WebServer web;

  private ObserveEndpoint(WebServer web) {
    this.web = web;
  }

  static ObserveEndpoint start(String host, int port, StorageHealth storage) {
    HealthCheck cassandra =
        new HealthCheck() {
          @Override
          public String name() {
            return "cassandra";
          }

          @Override
          public HealthCheckType type() {
            return HealthCheckType.READINESS;
          }

          @Override
          public HealthCheckResponse call() {
            long up = storage.nodesUp();
            var response =
                HealthCheckResponse.builder()
                    .status(up > 0)
                    .detail("nodesUp", up)
                    .detail("keyspace", storage.keyspace());
            if (up == 0) {
              // What an operator sees degraded: the gRPC health service says the same per service.
              response.detail("notServing", String.join(",", WatchPartyServer.NEEDS_STORAGE));
            }
            return response.build();
          }
        };
    ObserveFeature observe =
        ObserveFeature.builder()
            .addObserver(HealthObserver.builder().details(true).addCheck(cassandra).build())
            .addObserver(MetricsObserver.create())
            .build();
    WebServer web = WebServer.builder().host(host).port(port).addFeature(observe).build().start();
    return new ObserveEndpoint(web);
  }

  int port() {
    return web.port();
  }

  @Override
  public void close() {
    web.stop();
  }
}
