package io.watchparty.proto;

import io.watchparty.proto.SyncRules.Field;
import io.watchparty.proto.v1.SyncPolicy;
import java.util.function.Function;

/**
 * How players correct their drift from the room's playback state (room.proto's {@code SyncPolicy}),
 * as validated numbers: the one definition that the server is configured with and sends in every
 * snapshot, and that the Java client library applies (the web page applies the same numbers in
 * {@code sync.js}; {@code proto/sync-vectors.json} holds all three to one set of rules).
 *
 * <p>The defaults follow what the best published players do (DESIGN section 3): errors under 40 ms
 * are inaudible and invisible and correcting them would only add jitter (Jellyfin SyncPlay ignores
 * under 60 ms, MediaSync tolerates 25 ms); above a second, a seek is cheaper than minutes of nudged
 * playback; in between, the rate is nudged in proportion to the error, never closer to the room
 * rate than 0.11% (Chromium ignores a {@code playbackRate} within about 0.1% of 1.0) and never
 * further than 5% (audible as a pitch change beyond that).
 *
 * @param ignoreBelowMs errors below this are left alone
 * @param seekAboveMs errors above this are corrected by a seek
 * @param nudgeHorizonMs a nudge aims to remove the error in about this long
 * @param minNudge smallest rate change a nudge makes, relative to the room rate
 * @param maxNudge largest rate change a nudge makes, relative to the room rate
 * @param seekSettleMs after a seek has landed, drift is not checked for this long
 * @param checkIntervalMs how often a playing player checks its drift
 * @param clockSamples clock-offset samples per estimate; the smallest round trip wins
 * @param clockRefreshMs how often players estimate the clock offset again
 */
public record SyncBands(
    long ignoreBelowMs,
    long seekAboveMs,
    long nudgeHorizonMs,
    double minNudge,
    double maxNudge,
    long seekSettleMs,
    long checkIntervalMs,
    int clockSamples,
    long clockRefreshMs) {

  public static final SyncBands DEFAULTS =
      new SyncBands(40, 1000, 2000, 0.0011, 0.05, 300, 250, 8, 30_000);

  /**
   * Refuses bands no player could follow ({@link SyncRules}), naming the field at fault first as
   * room.proto names it.
   */
  public SyncBands {
    refuseBroken(
        Field::protoName,
        ignoreBelowMs,
        seekAboveMs,
        nudgeHorizonMs,
        minNudge,
        maxNudge,
        seekSettleMs,
        checkIntervalMs,
        clockSamples,
        clockRefreshMs);
  }

  /**
   * Bands whose refusal names the field at fault as {@code names} does (the server names its
   * settings).
   */
  public static SyncBands named(
      Function<Field, String> names,
      long ignoreBelowMs,
      long seekAboveMs,
      long nudgeHorizonMs,
      double minNudge,
      double maxNudge,
      long seekSettleMs,
      long checkIntervalMs,
      int clockSamples,
      long clockRefreshMs) {
    refuseBroken(
        names,
        ignoreBelowMs,
        seekAboveMs,
        nudgeHorizonMs,
        minNudge,
        maxNudge,
        seekSettleMs,
        checkIntervalMs,
        clockSamples,
        clockRefreshMs);
    return new SyncBands(
        ignoreBelowMs,
        seekAboveMs,
        nudgeHorizonMs,
        minNudge,
        maxNudge,
        seekSettleMs,
        checkIntervalMs,
        clockSamples,
        clockRefreshMs);
  }

  /**
   * The bands a snapshot's policy sets; a snapshot without one (an older server) gets {@link
   * #DEFAULTS}, so that every player still applies the same bands. Refuses a policy no player could
   * follow.
   */
  public static SyncBands of(SyncPolicy policy) {
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

  /** The bands as sent in snapshots. */
  public SyncPolicy toProto() {
    return SyncPolicy.newBuilder()
        .setIgnoreBelowMs(ignoreBelowMs)
        .setSeekAboveMs(seekAboveMs)
        .setNudgeHorizonMs(nudgeHorizonMs)
        .setMinNudge(minNudge)
        .setMaxNudge(maxNudge)
        .setSeekSettleMs(seekSettleMs)
        .setCheckIntervalMs(checkIntervalMs)
        .setClockSamples(clockSamples)
        .setClockRefreshMs(clockRefreshMs)
        .build();
  }

  private static void refuseBroken(
      Function<Field, String> names,
      long ignoreBelowMs,
      long seekAboveMs,
      long nudgeHorizonMs,
      double minNudge,
      double maxNudge,
      long seekSettleMs,
      long checkIntervalMs,
      int clockSamples,
      long clockRefreshMs) {
    SyncRules.broken(
            names,
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
              throw new IllegalArgumentException(rule);
            });
  }
}
