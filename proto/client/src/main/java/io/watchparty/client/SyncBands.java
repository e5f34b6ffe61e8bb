package io.watchparty.client;

import io.watchparty.proto.v1.SyncPolicy;

/**
 * The room's sync policy as numbers, validated. A snapshot without a policy (an older server) gets
 * the server's documented defaults, so that every player still applies the same bands.
 */
record SyncBands(
    long ignoreBelowMs,
    long seekAboveMs,
    long nudgeHorizonMs,
    double minNudge,
    double maxNudge,
    long seekSettleMs,
    long checkIntervalMs,
    int clockSamples,
    long clockRefreshMs) {

  /** The server's defaults ({@code io.watchparty.server.room.SyncPolicy.DEFAULTS}). */
  static final SyncBands DEFAULTS =
      new SyncBands(40, 1000, 2000, 0.0011, 0.05, 300, 250, 8, 30_000);

  SyncBands {
    if (ignoreBelowMs < 0 || seekAboveMs < ignoreBelowMs) {
      throw new IllegalArgumentException(
          "bands must satisfy 0 <= ignore_below_ms <= seek_above_ms, got "
              + ignoreBelowMs
              + " and "
              + seekAboveMs);
    }
    if (nudgeHorizonMs <= 0 || checkIntervalMs <= 0 || clockSamples <= 0 || clockRefreshMs <= 0) {
      throw new IllegalArgumentException("sync policy periods and counts must be positive");
    }
    if (minNudge < 0 || maxNudge < minNudge || maxNudge >= 1) {
      throw new IllegalArgumentException(
          "nudges must satisfy 0 <= min_nudge <= max_nudge < 1, got " + minNudge + ", " + maxNudge);
    }
  }

  static SyncBands of(SyncPolicy policy) {
    if (policy.equals(SyncPolicy.getDefaultInstance())) {
      return DEFAULTS;
    }
    return new SyncBands(
        policy.getIgnoreBelowMs(),
        policy.getSeekAboveMs(),
        policy.getNudgeHorizonMs(),
        policy.getMinNudge(),
        policy.getMaxNudge(),
        policy.getSeekSettleMs(),
        policy.getCheckIntervalMs(),
        policy.getClockSamples(),
        policy.getClockRefreshMs());
  }

  /** The same bands with nothing ignored: a trim of a change of ours inside the ignore band. */
  SyncBands withoutIgnoreBand() {
    return new SyncBands(
        0,
        seekAboveMs,
        nudgeHorizonMs,
        minNudge,
        maxNudge,
        seekSettleMs,
        checkIntervalMs,
        clockSamples,
        clockRefreshMs);
  }
}
