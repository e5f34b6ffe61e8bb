package io.watchparty.server;

import io.helidon.health.HealthCheck;
import io.helidon.health.HealthCheckResponse;
import io.helidon.health.HealthCheckType;
import io.helidon.http.HeaderValues;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.observe.ObserveFeature;
import io.helidon.webserver.observe.health.HealthObserver;
import io.helidon.webserver.observe.metrics.MetricsObserver;
import io.watchparty.server.room.FanOutTimes;
import io.watchparty.server.store.StorageHealth;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * The server's HTTP side port for operators: {@code /observe/health} (readiness includes the check
 * {@code cassandra}: whether a node is up and the cluster answers a probe in time, and when not,
 * which gRPC services are not serving) and {@code /observe/metrics} in Prometheus text format;
 * {@code /observe/fan-out} gives the rooms' fan-out times since the start as a whole HdrHistogram
 * (JSON: a few percentiles, and the histogram in HdrHistogram's compressed encoding, base64), so
 * that a load test that reads it before and after a run can take the run's share exactly.
 */
final class ObserveEndpoint implements AutoCloseable {
  private final WebServer web;

  private ObserveEndpoint(WebServer web) {
    this.web = web;
  }

  static ObserveEndpoint start(String host, int port, StorageHealth storage, FanOutTimes fanOut) {
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
            StorageHealth.Reading reading = storage.read();
            var response =
                HealthCheckResponse.builder()
                    .status(reading.available())
                    .detail("nodesUp", reading.nodesUp())
                    .detail("answering", reading.answering())
                    .detail("keyspace", storage.keyspace());
            if (!reading.available()) {
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
    WebServer web =
        WebServer.builder()
            .host(host)
            .port(port)
            .addFeature(observe)
            .routing(
                r ->
                    r.get(
                        "/observe/fan-out",
                        (req, res) -> {
                          res.header(HeaderValues.CONTENT_TYPE_JSON);
                          res.send(fanOutJson(fanOut.total()));
                        }))
            .build()
            .start();
    return new ObserveEndpoint(web);
  }

  static String fanOutJson(Histogram micros) {
    ByteBuffer buffer = ByteBuffer.allocate(micros.getNeededByteBufferCapacity());
    int length = micros.encodeIntoCompressedByteBuffer(buffer);
    String encoded = Base64.getEncoder().encodeToString(Arrays.copyOf(buffer.array(), length));
    return String.format(
        Locale.ROOT,
        "{\"unit\":\"microseconds\",\"events\":%d,\"p50\":%d,\"p99\":%d,\"p999\":%d,"
            + "\"max\":%d,\"histogram\":\"%s\"}",
        micros.getTotalCount(),
        micros.getValueAtPercentile(50),
        micros.getValueAtPercentile(99),
        micros.getValueAtPercentile(99.9),
        micros.getMaxValue(),
        encoded);
  }

  int port() {
    return web.port();
  }

  @Override
  public void close() {
    web.stop();
  }
}
