package io.watchparty.client;

import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * The server's clock as this client estimates it over its room stream: rounds of {@code
 * clock_samples} ClockPings sent one after another (the next when the previous pong is back), the
 * smallest round trip wins, a new round every {@code clock_refresh_ms}. As in the page's {@code
 * clock.js}, a round replaces the held estimate only if it is no less certain than the held one has
 * become with age, so a noisy refresh on a busy machine does not step the film.
 *
 * <p>Confined to the client's thread.
 */
final class ServerClock {
  /** 100 ppm: ten times what a PC's crystal drifts; 3 ms after a 30 s refresh interval. */
  static final double MAX_DRIFT = 1e-4;

  private final LongSupplier localMs;
  private final Timers timers;
  private final LongConsumer sendPing;

  private double offsetMs;
  private double measuredUncertaintyMs = Double.POSITIVE_INFINITY;
  private long measuredAtMs;
  private boolean ready;

  private ClockEstimator round;
  private int samplesWanted;
  private long pingSentAtMs = -1;
  private Timers.Handle refresh;

  /**
   * @param sendPing sends a ClockPing carrying the given local send time on the room stream
   */
  ServerClock(LongSupplier localMs, Timers timers, LongConsumer sendPing) {
    this.localMs = localMs;
    this.timers = timers;
    this.sendPing = sendPing;
  }

  /** Estimates at once and then every {@code refreshMs}, {@code samples} pings a round. */
  void start(int samples, long refreshMs) {
    stop();
    samplesWanted = samples;
    startRound();
    refresh =
        timers.schedule(
            new Runnable() {
              @Override
              public void run() {
                startRound();
                refresh = timers.schedule(this, refreshMs);
              }
            },
            refreshMs);
  }

  /** Stops refreshing and abandons the round in flight (the stream dropped); the estimate stays. */
  void stop() {
    if (refresh != null) {
      refresh.cancel();
      refresh = null;
    }
    round = null;
    pingSentAtMs = -1;
  }

  private void startRound() {
    round = new ClockEstimator();
    ping();
  }

  private void ping() {
    pingSentAtMs = localMs.getAsLong();
    sendPing.accept(pingSentAtMs);
  }

  /** A pong on the room stream. Pongs of an abandoned round or a stale ping are ignored. */
  void onPong(long clientSendMs, long serverReceiveMs, long serverSendMs) {
    if (round == null || clientSendMs != pingSentAtMs) {
      return;
    }
    round.add(clientSendMs, serverReceiveMs, serverSendMs, localMs.getAsLong());
    if (round.samples() < samplesWanted) {
      ping();
      return;
    }
    ClockEstimator.Estimate estimate = round.estimate().orElseThrow();
    round = null;
    pingSentAtMs = -1;
    if (ready && estimate.uncertaintyMs() > uncertaintyMs()) {
      return;
    }
    offsetMs = estimate.offsetMs();
    measuredUncertaintyMs = estimate.uncertaintyMs();
    measuredAtMs = localMs.getAsLong();
    ready = true;
  }

  boolean ready() {
    return ready;
  }

  /** Server time now, by this estimate (the local clock until the first round is done). */
  double nowMs() {
    return localMs.getAsLong() + offsetMs;
  }

  double offsetMs() {
    return offsetMs;
  }

  /** How far off {@link #nowMs} may be: half the winning round trip plus the drift since. */
  double uncertaintyMs() {
    return measuredUncertaintyMs + MAX_DRIFT * (localMs.getAsLong() - measuredAtMs);
  }
}
