package io.watchparty.client;

/**
 * What to do about a drift: nothing, a planned rate nudge, or a seek. Pure: the decision of {@code
 * correctionFor} in the web page's {@code sync.js}, with the same numbers.
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
   * The correction for {@code errorMs} (media milliseconds, positive = the player is ahead of the
   * room) at the room's rate: |error| below the ignore band is left alone, above the seek band is a
   * seek, and in between a nudge of size |error| / horizon, clamped to [min_nudge, max_nudge],
   * against the sign of the error, planned for as long as it takes to remove the error.
   */
  static Correction forError(double errorMs, double roomRate, SyncBands bands) {
    double size = Math.abs(errorMs);
    if (size < bands.ignoreBelowMs()) {
      return NONE;
    }
    if (size > bands.seekAboveMs()) {
      return SEEK;
    }
    double nudge =
        Math.min(bands.maxNudge(), Math.max(bands.minNudge(), size / bands.nudgeHorizonMs()));
    if (nudge == 0) {
      return NONE; // a policy whose nudges are all zero cannot nudge; the seek band still applies
    }
    return new Correction(
        Kind.NUDGE, roomRate * (1 - Math.signum(errorMs) * nudge), size / (roomRate * nudge));
  }
}
