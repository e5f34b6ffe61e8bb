package io.watchparty.server.room;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.PlaybackState;
import io.watchparty.server.refusal.RefusedException;
import java.util.Map;

/**
 * The authoritative playback state of a room: where the film is at one server instant, and how it
 * moves from there. It is never "sent every second": players compute {@link #positionAt} from it.
 *
 * @param titleId what plays
 * @param durationMs the title's running time; positions are clamped to it
 * @param playing playing or paused
 * @param positionMs the position at {@code effectiveAtMs}
 * @param effectiveAtMs server time (epoch ms) at which this state takes effect
 * @param rate playback rate while playing
 * @param sequence the room sequence of the event that produced this state
 */
public record Playback(
    String titleId,
    long durationMs,
    boolean playing,
    long positionMs,
    long effectiveAtMs,
    double rate,
    long sequence) {

  static final double MIN_RATE = 0.5;
  static final double MAX_RATE = 2.0;

  /** A fresh title: paused at the start, normal speed. */
  static Playback start(String titleId, long durationMs, long effectiveAtMs) {
    return new Playback(titleId, durationMs, false, 0, effectiveAtMs, 1.0, 0);
  }

  /**
   * Where the film is at server time {@code serverTimeMs}. Before the effective time the player
   * holds at {@code positionMs}: it has been told where to be when the change takes effect.
   */
  long positionAt(long serverTimeMs) {
    if (!playing) {
      return positionMs;
    }
    long elapsed = Math.max(0, serverTimeMs - effectiveAtMs);
    return Math.min(durationMs, positionMs + Math.round(elapsed * rate));
  }

  Playback play(long at) {
    return new Playback(titleId, durationMs, true, positionAt(at), at, rate, sequence);
  }

  Playback pause(long at) {
    return new Playback(titleId, durationMs, false, positionAt(at), at, rate, sequence);
  }

  /** Refuses a position outside the title. */
  Playback seek(long positionMs, long at) {
    if (positionMs < 0 || positionMs > durationMs) {
      throw new RefusedException(
          ErrorReason.SEEK_OUT_OF_RANGE,
          "seek position " + positionMs + " ms is outside the title (0.." + durationMs + " ms)",
          Map.of("duration_ms", Long.toString(durationMs)));
    }
    return new Playback(titleId, durationMs, playing, positionMs, at, rate, sequence);
  }

  /** Refuses a rate outside {@link #MIN_RATE}..{@link #MAX_RATE}. */
  Playback withRate(double newRate, long at) {
    if (!(newRate >= MIN_RATE && newRate <= MAX_RATE)) {
      throw new RefusedException(
          ErrorReason.RATE_OUT_OF_RANGE,
          "playback rate " + newRate + " is outside " + MIN_RATE + ".." + MAX_RATE,
          Map.of("min_rate", Double.toString(MIN_RATE), "max_rate", Double.toString(MAX_RATE)));
    }
    return new Playback(titleId, durationMs, playing, positionAt(at), at, newRate, sequence);
  }

  Playback withSequence(long newSequence) {
    return new Playback(titleId, durationMs, playing, positionMs, effectiveAtMs, rate, newSequence);
  }

  public PlaybackState toProto() {
    return PlaybackState.newBuilder()
        .setTitleId(titleId)
        .setTitleDurationMs(durationMs)
        .setPlaying(playing)
        .setPositionMs(positionMs)
        .setEffectiveAtMs(effectiveAtMs)
        .setRate(rate)
        .setSequence(sequence)
        .build();
  }
}
