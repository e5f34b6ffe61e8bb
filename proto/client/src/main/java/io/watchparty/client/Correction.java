package io.watchparty.client;

import io.watchparty.proto.SyncBands;

/**
 * What to do about a drift: nothing, a planned rate nudge, or a seek. Pure: the decisions of the
 * web page's {@code sync.js} ({@code correctionFor}, {@code pausedCorrectionFor}, {@code
 * nudgingCorrectionFor}, {@code trimFor}), with the same numbers; both run the golden vectors of
 * {@code proto/sync-vectors.json}.
 *
 * @param rate the nudged playback rate (NUDGE only)
 * @param durationMs how long the nudged rate runs to remove the error, in wall milliseconds (NUDGE
 *     only)
 */
record Correction(Kind kind, double rate, double durationMs) {
  enum Kind {
    NONE,
    NUDGE,
    SEEK
  }

  static final Correction NONE = new Correction(Kind.NONE, 0, 0);
  static final Correction SEEK = new Correction(Kind.SEEK, 0, 0);

  /**
   * A paused player has no drift to absorb, only a position to show: it sits exactly on it, since a
   * seek while paused costs nothing visible. A millisecond is far below a frame and far above the
   * rounding of a position.
   */
  static final double PAUSED_TOLERANCE_MS = 1;

  /** What a change of the player's own may leave behind: a sixteenth of a frame at 30 fps. */
  static final double TRIM_BELOW_MS = 2;

  /**
   * A trim takes back an error of the player's own over this much wall time (still within the
   * policy's minimum and maximum nudge), not the policy's nudge horizon: drift found by the
   * periodic check is absorbed gently, but a switch that landed 40 ms off is taken back in under a
   * second at the 5% maximum rather than over the whole 2 s horizon (the web page's measurements,
   * load-tests/README.md).
   */
  static final long TRIM_HORIZON_MS = 500;

  /**
   * The correction for drift found by the periodic check of a playing player, {@code errorMs}
   * (media milliseconds, positive = the player is ahead of the room) at the room's rate: |error|
   * below the ignore band (or exactly 0) is left alone, above the seek band is a seek, and in
   * between a nudge of size |error| / horizon, clamped to [min_nudge, max_nudge], against the sign
   * of the error, planned for as long as it takes to remove the error.
   */
  static Correction forError(double errorMs, double roomRate, SyncBands bands) {
    double size = Math.abs(errorMs);
    // A zero error under a policy that ignores nothing would be a nudge to the room's own rate.
    if (size == 0 || size < bands.ignoreBelowMs()) {
      return NONE;
    }
    if (size > bands.seekAboveMs()) {
      return SEEK;
    }
    double nudge =
        Math.min(bands.maxNudge(), Math.max(bands.minNudge(), size / bands.nudgeHorizonMs()));
    return new Correction(
        Kind.NUDGE, roomRate * (1 - Math.signum(errorMs) * nudge), size / (roomRate * nudge));
  }

  /** A paused player sits within {@value #PAUSED_TOLERANCE_MS} ms of the position, or seeks. */
  static Correction whilePaused(double errorMs) {
    return Math.abs(errorMs) < PAUSED_TOLERANCE_MS ? NONE : SEEK;
  }

  /** While a planned nudge runs, only the seek band applies: the nudge finishes first. */
  static Correction whileNudging(double errorMs, SyncBands bands) {
    return Math.abs(errorMs) > bands.seekAboveMs() ? SEEK : NONE;
  }

  /**
   * The trim of an error that a change of the player's own (a start, a rate switch, a nudge's end)
   * left inside the ignore band: nothing under {@value #TRIM_BELOW_MS} ms, else a nudge with no
   * ignore band over {@value #TRIM_HORIZON_MS} ms.
   */
  static Correction trim(double errorMs, double roomRate, SyncBands bands) {
    return Math.abs(errorMs) < TRIM_BELOW_MS ? NONE : forError(errorMs, roomRate, forTrims(bands));
  }

  /** The bands for a trim: nothing ignored, the trim horizon. */
  private static SyncBands forTrims(SyncBands bands) {
    return new SyncBands(
        0,
        bands.seekAboveMs(),
        TRIM_HORIZON_MS,
        bands.minNudge(),
        bands.maxNudge(),
        bands.seekSettleMs(),
        bands.checkIntervalMs(),
        bands.clockSamples(),
        bands.clockRefreshMs());
  }
}
