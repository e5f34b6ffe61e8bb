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

  /**
   * Refuses what the server refuses ({@code io.watchparty.server.room.SyncPolicy}): the golden
   * vectors of {@code proto/sync-vectors.json} hold the rules, and each refusal names the field at
   * fault (room.proto's name) first.
   */
  SyncBands {
    if (ignoreBelowMs < 0) {
      throw bad("ignore_below_ms", ignoreBelowMs, "must not be negative");
    }
    // Equal bands would leave no error to nudge: everything would be ignored or seeked.
    if (seekAboveMs <= ignoreBelowMs) {
      throw bad(
          "seek_above_ms", seekAboveMs, "must be above ignore_below_ms (" + ignoreBelowMs + ")");
    }
    if (nudgeHorizonMs < 1) {
      throw bad("nudge_horizon_ms", nudgeHorizonMs, "must be at least 1");
    }
    // Written so that NaN fails too.
    if (!(minNudge > 0)) {
      throw bad("min_nudge", minNudge, "must be above 0");
    }
    if (!(maxNudge >= minNudge) || maxNudge > 0.5) {
      throw bad(
          "max_nudge", maxNudge, "must be at least min_nudge (" + minNudge + ") and at most 0.5");
    }
    if (seekSettleMs < 0) {
      throw bad("seek_settle_ms", seekSettleMs, "must not be negative");
    }
    if (checkIntervalMs < 1) {
      throw bad("check_interval_ms", checkIntervalMs, "must be at least 1");
    }
    if (clockSamples < 1) {
      throw bad("clock_samples", clockSamples, "must be at least 1");
    }
    if (clockRefreshMs < 1) {
      throw bad("clock_refresh_ms", clockRefreshMs, "must be at least 1");
    }
  }

  private static IllegalArgumentException bad(String field, Object value, String rule) {
    return new IllegalArgumentException(field + " (" + value + ") " + rule + " in the sync policy");
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

  /** The bands for a trim ({@link Correction#trim}): nothing ignored, the trim horizon. */
  SyncBands forTrims() {
    return new SyncBands(
        0,
        seekAboveMs,
        Correction.TRIM_HORIZON_MS,
        minNudge,
        maxNudge,
        seekSettleMs,
        checkIntervalMs,
        clockSamples,
        clockRefreshMs);
  }
}
