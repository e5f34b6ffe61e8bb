package io.watchparty.terminal;

import io.watchparty.client.Player;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;

/**
 * A simulated player: no media, only a position that advances with a monotonic clock at the
 * player's rate while playing. The library's player adapter keeps it in sync with the room, so its
 * position is the room's synchronized position. Seeks land at once. The load tests' simulated
 * players are these too.
 *
 * <p>Thread safety: thread-safe (every method synchronized); the library drives it from its client
 * thread while the status line reads it from another.
 */
public final class ClockedPlayer implements Player {
  private final LongSupplier clockMs;
  private double baseMs;
  private long sinceMs;
  private double rate = 1;
  private boolean playing;

  /** A paused player at 0 whose position advances with {@code clockMs} while it plays. */
  public ClockedPlayer(LongSupplier clockMs) {
    this.clockMs = clockMs;
    this.sinceMs = clockMs.getAsLong();
  }

  /** Moves the base to now, so a change of rate or state applies from now on. */
  private void rebase() {
    baseMs = positionMs();
    sinceMs = clockMs.getAsLong();
  }

  @Override
  public synchronized double positionMs() {
    return playing ? baseMs + (clockMs.getAsLong() - sinceMs) * rate : baseMs;
  }

  @Override
  public synchronized double rate() {
    return rate;
  }

  @Override
  public synchronized void setRate(double value) {
    rebase();
    rate = value;
  }

  @Override
  public synchronized boolean playing() {
    return playing;
  }

  @Override
  public synchronized void play() {
    rebase();
    playing = true;
  }

  @Override
  public synchronized void pause() {
    rebase();
    playing = false;
  }

  @Override
  public synchronized CompletionStage<?> seek(double positionMs) {
    baseMs = positionMs;
    sinceMs = clockMs.getAsLong();
    return CompletableFuture.completedFuture(null);
  }
}
