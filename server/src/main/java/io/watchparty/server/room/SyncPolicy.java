package io.watchparty.server.room;

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
   * Refuses a policy no player could follow. The same rules, case by case, are the golden vectors
   * in {@code proto/sync-vectors.json}, which the Java client and the web page also run; each
   * refusal names the setting at fault first.
   */
  public SyncPolicy {
    if (ignoreBelowMs < 0) {
      throw bad("ignore", ignoreBelowMs, "must not be negative");
    }
    // Equal bands would leave no error to nudge: everything would be ignored or seeked.
    if (seekAboveMs <= ignoreBelowMs) {
      throw bad(
          "seek", seekAboveMs, "must be above watchparty.sync.ignore (" + ignoreBelowMs + ")");
    }
    if (nudgeHorizonMs < 1) {
      throw bad("horizon", nudgeHorizonMs, "must be at least 1");
    }
    // Written so that NaN fails too.
    if (!(minNudge > 0)) {
      throw bad("minnudge", minNudge, "must be above 0");
    }
    if (!(maxNudge >= minNudge) || maxNudge > 0.5) {
      throw bad(
          "maxnudge",
          maxNudge,
          "must be at least watchparty.sync.minnudge (" + minNudge + ") and at most 0.5");
    }
    if (seekSettleMs < 0) {
      throw bad("settle", seekSettleMs, "must not be negative");
    }
    if (checkIntervalMs < 1) {
      throw bad("check", checkIntervalMs, "must be at least 1");
    }
    if (clockSamples < 1) {
      throw bad("samples", clockSamples, "must be at least 1");
    }
    if (clockRefreshMs < 1) {
      throw bad("refresh", clockRefreshMs, "must be at least 1");
    }
  }

  private static IllegalArgumentException bad(String key, Object value, String rule) {
    return new IllegalArgumentException("watchparty.sync." + key + " (" + value + ") " + rule);
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
