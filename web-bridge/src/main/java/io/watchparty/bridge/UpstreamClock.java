package io.watchparty.bridge;

import io.grpc.CallCredentials;
import io.grpc.StatusRuntimeException;
import io.watchparty.proto.v1.ClockPing;
import io.watchparty.proto.v1.ClockPong;
import io.watchparty.proto.v1.RoomServiceGrpc;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The bridge's estimate of the gRPC server's clock. Playback states are in server time, and the
 * bridge may run on another machine, so the browsers' time endpoint answers in the server's clock:
 * bridge time plus this offset.
 *
 * <p>NTP-style: every refresh takes a few samples of {@code GetServerTime} and keeps the one with
 * the smallest round trip, whose offset error is at most half that round trip. Until the first
 * sample the offset is 0 (the same machine, as in a local installation).
 */
final class UpstreamClock implements AutoCloseable {
  /** One estimate: the offset to add to the bridge's clock, and its uncertainty (half the RTT). */
  record Estimate(double offsetMs, double uncertaintyMs) {}

  private static final int SAMPLES = 8;
  private static final Duration REFRESH = Duration.ofSeconds(30);

  private final RoomServiceGrpc.RoomServiceBlockingStub stub;
  private final ScheduledFuture<?> refresh;
  private volatile Estimate estimate = new Estimate(0, Double.POSITIVE_INFINITY);

  UpstreamClock(Upstream upstream, CallCredentials relay, ScheduledExecutorService timers) {
    this.stub = RoomServiceGrpc.newBlockingStub(upstream.channel()).withCallCredentials(relay);
    this.refresh =
        timers.scheduleWithFixedDelay(
            () -> Thread.ofVirtual().name("upstream-clock").start(this::sample),
            0,
            REFRESH.toMillis(),
            TimeUnit.MILLISECONDS);
  }

  /** The bridge's wall clock in milliseconds, with sub-millisecond precision. */
  static double localNowMs() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1000.0 + now.getNano() / 1_000_000.0;
  }

  /** The server's clock now, as estimated. */
  double serverNowMs() {
    return localNowMs() + estimate.offsetMs();
  }

  Estimate estimate() {
    return estimate;
  }

  private void sample() {
    Estimate best = null;
    for (int i = 0; i < SAMPLES; i++) {
      try {
        double sent = localNowMs();
        ClockPong pong =
            stub.withDeadlineAfter(2, TimeUnit.SECONDS)
                .getServerTime(ClockPing.newBuilder().setClientSendTimeMs((long) sent).build());
        double received = localNowMs();
        double roundTrip =
            (received - sent) - (pong.getServerSendTimeMs() - pong.getServerReceiveTimeMs());
        double offset =
            ((pong.getServerReceiveTimeMs() - sent) + (pong.getServerSendTimeMs() - received)) / 2;
        if (best == null || roundTrip / 2 < best.uncertaintyMs()) {
          // The server's clock has millisecond steps: that is part of the uncertainty too.
          best = new Estimate(offset, Math.max(roundTrip, 0) / 2 + 0.5);
        }
      } catch (StatusRuntimeException e) {
        return; // the server is away: keep the last estimate, try again at the next refresh
      }
    }
    estimate = best;
  }

  @Override
  public void close() {
    refresh.cancel(false);
  }
}
