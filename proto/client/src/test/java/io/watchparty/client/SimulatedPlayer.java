package io.watchparty.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;

/**
 * A player on a given clock and timers (virtual time in unit tests, the client's thread against a
 * server): its media clock runs {@code skewPpm} fast of the wall clock (real players drift), a seek
 * lands {@code seekLatencyMs} later, and a start takes {@code startLatencyMs} (as a decoder's
 * would).
 */
final class SimulatedPlayer implements Player {
  private final LongSupplier clock;
  private final Timers timers;
  private final double skew;
  private final long seekLatencyMs;
  private final long startLatencyMs;
  private double baseMs;
  private long sinceMs;
  private double rate = 1;
  private boolean playing;
  private boolean running; // playing and started
  private int seeks;

  SimulatedPlayer(
      LongSupplier clock, Timers timers, double skewPpm, long seekLatencyMs, long startLatencyMs) {
    this.clock = clock;
    this.timers = timers;
    this.skew = 1 + skewPpm * 1e-6;
    this.seekLatencyMs = seekLatencyMs;
    this.startLatencyMs = startLatencyMs;
    this.sinceMs = clock.getAsLong();
  }

  private void rebase() {
    baseMs = positionMs();
    sinceMs = clock.getAsLong();
  }

  @Override
  public double positionMs() {
    return running ? baseMs + (clock.getAsLong() - sinceMs) * rate * skew : baseMs;
  }

  @Override
  public double rate() {
    return rate;
  }

  @Override
  public void setRate(double value) {
    rebase();
    rate = value;
  }

  @Override
  public boolean playing() {
    return playing;
  }

  @Override
  public void play() {
    if (playing) {
      return;
    }
    playing = true;
    timers.schedule(
        () -> {
          if (playing && !running) {
            rebase();
            running = true;
          }
        },
        startLatencyMs);
  }

  @Override
  public void pause() {
    rebase();
    playing = false;
    running = false;
  }

  @Override
  public CompletionStage<?> seek(double positionMs) {
    seeks++;
    CompletableFuture<Void> landed = new CompletableFuture<>();
    timers.schedule(
        () -> {
          baseMs = positionMs;
          sinceMs = clock.getAsLong();
          landed.complete(null);
        },
        seekLatencyMs);
    return landed;
  }

  int seeks() {
    return seeks;
  }
}
