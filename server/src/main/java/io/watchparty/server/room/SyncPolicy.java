package io.watchparty.server.room;

import io.watchparty.proto.SyncRules;

/**
 * How players correct their drift from the room's playback state: one definition on the server,
 * sent in every snapshot, applied by the web page, the Java client library and simulated players.
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
public record SyncPolicy(
    long ignoreBelowMs,
    long seekAboveMs,
    long nudgeHorizonMs,
    double minNudge,
    double maxNudge,
    long seekSettleMs,
    long checkIntervalMs,
    int clockSamples,
    long clockRefreshMs) {

  public static final SyncPolicy DEFAULTS =
      new SyncPolicy(40, 1000, 2000, 0.0011, 0.05, 300, 250, 8, 30_000);

  /**
   * Refuses a policy no player could follow ({@link SyncRules}, which the Java client applies too),
   * naming the setting at fault first.
   */
  public SyncPolicy {
    SyncRules.broken(
            SyncRules.Field::settingName,
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

  /** The policy as sent in snapshots. */
  public io.watchparty.proto.v1.SyncPolicy toProto() {
    return io.watchparty.proto.v1.SyncPolicy.newBuilder()
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
}
