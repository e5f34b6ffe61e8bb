package io.watchparty.client;

import java.util.Optional;

/**
 * One estimation round of the server clock, NTP-style (DESIGN section 3, the page's {@code
 * clock.js}): of the samples taken, the one with the smallest round trip wins; its offset's error
 * is at most half that round trip. Pure and not thread-safe: its owner confines it.
 */
final class ClockEstimator {
  /** The offset (server minus local, ms) and its uncertainty (half the winning round trip). */
  record Estimate(double offsetMs, double uncertaintyMs) {}

  private double bestRoundTrip = Double.POSITIVE_INFINITY;
  private double bestOffset;
  private int samples;

  /**
   * Adds a sample: the local times the ping left and the pong arrived, and the server's receive and
   * send times from the pong.
   */
  void add(long localSentMs, long serverReceivedMs, long serverSentMs, long localReceivedMs) {
    // The time the ping and pong spent travelling, without the server's own processing.
    double roundTrip = (localReceivedMs - localSentMs) - (serverSentMs - serverReceivedMs);
    samples++;
    if (roundTrip < bestRoundTrip) {
      bestRoundTrip = roundTrip;
      bestOffset = ((serverReceivedMs - localSentMs) + (serverSentMs - localReceivedMs)) / 2.0;
    }
  }

  int samples() {
    return samples;
  }

  Optional<Estimate> estimate() {
    if (samples == 0) {
      return Optional.empty();
    }
    return Optional.of(new Estimate(bestOffset, Math.max(bestRoundTrip, 0) / 2));
  }
}
