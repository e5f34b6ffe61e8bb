package io.watchparty.proto;

import java.util.Optional;
import java.util.function.Function;

/**
 * The rules a sync policy (room.proto's {@code SyncPolicy}) must keep for a player to follow it,
 * which {@link SyncBands} applies: the server refuses a policy it is configured with, the Java
 * client one it is sent. The golden vectors of {@code proto/sync-vectors.json} hold the same rules
 * case by case, and the web page's {@code sync.js} runs them too.
 */
public final class SyncRules {

  /** A field of the policy, named as room.proto names it and as the server's setting does. */
  public enum Field {
    IGNORE_BELOW_MS("ignore_below_ms", "watchparty.sync.ignore"),
    SEEK_ABOVE_MS("seek_above_ms", "watchparty.sync.seek"),
    NUDGE_HORIZON_MS("nudge_horizon_ms", "watchparty.sync.horizon"),
    MIN_NUDGE("min_nudge", "watchparty.sync.minnudge"),
    MAX_NUDGE("max_nudge", "watchparty.sync.maxnudge"),
    SEEK_SETTLE_MS("seek_settle_ms", "watchparty.sync.settle"),
    CHECK_INTERVAL_MS("check_interval_ms", "watchparty.sync.check"),
    CLOCK_SAMPLES("clock_samples", "watchparty.sync.samples"),
    CLOCK_REFRESH_MS("clock_refresh_ms", "watchparty.sync.refresh");

    private final String protoName;
    private final String settingName;

    Field(String protoName, String settingName) {
      this.protoName = protoName;
      this.settingName = settingName;
    }

    /** The field's name in room.proto. */
    public String protoName() {
      return protoName;
    }

    /** The server's setting of the field. */
    public String settingName() {
      return settingName;
    }
  }

  private SyncRules() {}

  /**
   * The first rule the numbers break, as "{@code name} ({@code value}) {@code rule}", each field
   * named by {@code names}; empty when they keep every rule.
   */
  public static Optional<String> broken(
      Function<Field, String> name,
      long ignoreBelowMs,
      long seekAboveMs,
      long nudgeHorizonMs,
      double minNudge,
      double maxNudge,
      long seekSettleMs,
      long checkIntervalMs,
      int clockSamples,
      long clockRefreshMs) {
    if (ignoreBelowMs < 0) {
      return rule(name, Field.IGNORE_BELOW_MS, ignoreBelowMs, "must not be negative");
    }
    // Equal bands would leave no error to nudge: everything would be ignored or seeked.
    if (seekAboveMs <= ignoreBelowMs) {
      return rule(
          name,
          Field.SEEK_ABOVE_MS,
          seekAboveMs,
          "must be above " + name.apply(Field.IGNORE_BELOW_MS) + " (" + ignoreBelowMs + ")");
    }
    if (nudgeHorizonMs < 1) {
      return rule(name, Field.NUDGE_HORIZON_MS, nudgeHorizonMs, "must be at least 1");
    }
    // Written so that NaN fails too.
    if (!(minNudge > 0)) {
      return rule(name, Field.MIN_NUDGE, minNudge, "must be above 0");
    }
    if (!(maxNudge >= minNudge) || maxNudge > 0.5) {
      return rule(
          name,
          Field.MAX_NUDGE,
          maxNudge,
          "must be at least "
              + name.apply(Field.MIN_NUDGE)
              + " ("
              + minNudge
              + ") and at most 0.5");
    }
    if (seekSettleMs < 0) {
      return rule(name, Field.SEEK_SETTLE_MS, seekSettleMs, "must not be negative");
    }
    if (checkIntervalMs < 1) {
      return rule(name, Field.CHECK_INTERVAL_MS, checkIntervalMs, "must be at least 1");
    }
    if (clockSamples < 1) {
      return rule(name, Field.CLOCK_SAMPLES, clockSamples, "must be at least 1");
    }
    if (clockRefreshMs < 1) {
      return rule(name, Field.CLOCK_REFRESH_MS, clockRefreshMs, "must be at least 1");
    }
    return Optional.empty();
  }

  private static Optional<String> rule(
      Function<Field, String> name, Field field, Object value, String rule) {
    return Optional.of(name.apply(field) + " (" + value + ") " + rule);
  }
}
