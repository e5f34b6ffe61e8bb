package io.watchparty.server;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.metadata.NodeState;
import io.helidon.health.HealthCheck;
import io.helidon.health.HealthCheckResponse;
import io.helidon.health.HealthCheckType;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.observe.ObserveFeature;
import io.helidon.webserver.observe.health.HealthObserver;
import io.helidon.webserver.observe.metrics.MetricsObserver;

/**
 * The server's HTTP side port for operators: {@code /observe/health} (readiness includes whether
 * Cassandra has a node up) and {@code /observe/metrics} in Prometheus text format.
 */
final class ObserveEndpoint implements AutoCloseable {
  private final WebServer web;

  private ObserveEndpoint(WebServer web) {
    this.web = web;
  }

  static ObserveEndpoint start(String host, int port, CqlSession session) {
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
            long up =
                session.getMetadata().getNodes().values().stream()
                    .filter(n -> n.getState() == NodeState.UP)
                    .count();
            return HealthCheckResponse.builder()
                .status(up > 0)
                .detail("nodesUp", up)
                .detail("keyspace", session.getKeyspace().map(Object::toString).orElse(""))
                .build();
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
