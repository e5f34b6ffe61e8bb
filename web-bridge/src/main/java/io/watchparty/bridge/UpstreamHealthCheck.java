package io.watchparty.bridge;

import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.helidon.health.HealthCheck;
import io.helidon.health.HealthCheckResponse;
import io.helidon.health.HealthCheckType;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Readiness: the bridge is ready only while the gRPC server answers the standard health check
 * ({@code grpc.health.v1.Health/Check} for the whole server, service "") with {@code SERVING}.
 * Without its upstream the bridge can serve no room, so a load balancer should send it no browser.
 */
final class UpstreamHealthCheck implements HealthCheck {
  private static final Logger log = LoggerFactory.getLogger(UpstreamHealthCheck.class);

  // A probe must answer well within a load balancer's probe timeout, even when the upstream hangs.
  static final Duration DEADLINE = Duration.ofSeconds(1);

  /** The {@code state} detail when the call itself failed; {@code error} then has its code. */
  static final String UNREACHABLE = "UNREACHABLE";

  private final Upstream upstream;
  private final HealthGrpc.HealthBlockingStub health;
  // The state of the previous probe, to log changes rather than every probe.
  private final AtomicReference<String> lastState = new AtomicReference<>("");

  UpstreamHealthCheck(Upstream upstream) {
    this.upstream = upstream;
    this.health = HealthGrpc.newBlockingStub(upstream.channel());
  }

  @Override
  public HealthCheckType type() {
    return HealthCheckType.READINESS;
  }

  @Override
  public String name() {
    return "upstream";
  }

  @Override
  public HealthCheckResponse call() {
    upstream.reconnectIfBackingOff();
    HealthCheckResponse.Builder response =
        HealthCheckResponse.builder().detail("address", upstream.address());
    String state;
    try {
      ServingStatus status =
          health
              .withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
              .check(HealthCheckRequest.getDefaultInstance())
              .getStatus();
      state = status.name();
      response.status(status == ServingStatus.SERVING);
    } catch (StatusRuntimeException e) {
      state = UNREACHABLE;
      response.status(false).detail("error", e.getStatus().getCode().name());
    }
    logChange(state);
    return response.detail("state", state).build();
  }

  private void logChange(String state) {
    String previous = lastState.getAndSet(state);
    if (previous.equals(state)) {
      return;
    }
    if (state.equals(ServingStatus.SERVING.name())) {
      log.info("Upstream {} is SERVING; the bridge is ready", upstream.address());
    } else {
      log.warn("Upstream {} is {}; the bridge is not ready", upstream.address(), state);
    }
  }
}
