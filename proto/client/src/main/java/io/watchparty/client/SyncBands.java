package io.watchparty.client;

import io.watchparty.proto.SyncRules;
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
   * Refuses what the server refuses: the same {@link SyncRules}, each refusal naming the field at
   * fault (room.proto's name) first.
   */
  SyncBands {
    SyncRules.broken(
            SyncRules.Field::protoName,
            ignoreBelowMs,
            seekAboveMs,
            nudgeHorizonMs,
            minNudge,
            maxNudge,
            seekSettleMs,
            checkIntervalMs,
            clockSamples,
            clockRefreshMs)
        .ifPresent(
            rule -> {
              throw new IllegalArgumentException(rule + " in the sync policy");
            });
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
