package io.watchparty.client;

import java.util.concurrent.CompletionStage;

/**
 * A media player the library keeps in sync with the room (see {@link RoomConnection#attachPlayer}):
 * anything that can report and set its position and rate, and play and pause. Positions are media
 * milliseconds of the room's title.
 *
 * <p>Thread safety: the library calls these methods only from its own client thread, one at a time;
 * an implementation that the app also touches from other threads must make them safe for that
 * itself. No method may block for long: a seek reports its landing through its returned stage.
 */
public interface Player {
  /** The position the player shows now, in media milliseconds. */
  double positionMs();

  /** The playback rate the player runs at now (1.0 = normal speed). */
  double rate();

  /** Sets the playback rate; the library passes the room's rate or a small nudge of it. */
  void setRate(double rate);

  /** Whether the player is playing (not paused) now. */
  boolean playing();

  /** Starts playing from the current position. */
  void play();

  /** Pauses at the current position. */
  void pause();

  /**
   * Moves to {@code positionMs}; the stage completes (on any thread) once the player shows that
   * position. The library does not check drift again until it has, plus the room's settle time.
   */
  CompletionStage<?> seek(double positionMs);
}
