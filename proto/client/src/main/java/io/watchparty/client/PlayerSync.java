package io.watchparty.client;

import io.watchparty.proto.SyncBands;
import io.watchparty.proto.v1.PlaybackState;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.function.LongSupplier;

/**
 * Keeps a {@link Player} on the room's playback state (DESIGN section 3), as the web page's {@code
 * sync.js} keeps a video on it, with the same bands from the snapshot's sync policy:
 *
 * <ul>
 *   <li>a change takes effect at its server instant: a timer wakes the player then;
 *   <li>every {@code check_interval_ms} the error (player position minus where the state says the
 *       film is now) is measured and {@link Correction#forError} decides: nothing, a planned nudge
 *       (the room's rate returns exactly when the nudge has removed the error), or a seek;
 *   <li>nothing is re-checked while a seek is in flight, nor for {@code seek_settle_ms} after it
 *       landed, nor (except for the seek band) while a planned nudge runs: each correction finishes
 *       before the next is chosen, so the loop cannot hunt;
 *   <li>a playing player seeks, paused, to where the film will be a little later than the seek is
 *       expected to take (twice the measured average), and starts when the film gets there;
 *   <li>a play from a pause starts like a landed seek: the paused player already shows where the
 *       film will be when the play takes effect, so {@link Player#play} is called the player's
 *       measured start latency before that instant, not at it;
 *   <li>a change of ours (a start, a rate switch, a nudge's end) may leave a small error inside the
 *       ignore band: up to {@value #TRIMS_PER_CHANGE} trims reduce it below {@value
 *       Correction#TRIM_BELOW_MS} ms; a paused player sits within {@value
 *       Correction#PAUSED_TOLERANCE_MS} ms.
 * </ul>
 *
 * <p>The decisions themselves are {@link Correction}'s, which runs the same golden vectors as the
 * page and the server ({@code proto/sync-vectors.json}).
 *
 * <p>Confined to the client's thread (the player's seek completions hop onto it).
 */
final class PlayerSync {
  static final int TRIMS_PER_CHANGE = 3;

  /**
   * A seek in flight, or a start planned for a state's instant: it stands (no check decides
   * anything else) until that state is in effect and the player has been started.
   */
  private static final class Seek {
    final PlaybackState state;
    final double target;
    boolean started;

    Seek(PlaybackState state, double target) {
      this.state = state;
      this.target = target;
    }
  }

  private final Player player;
  private final ServerClock clock;
  private final LongSupplier localMs;
  private final Timers timers;

  private SyncBands bands;

  /** The state in effect first, then those that take effect later, by effective time. */
  private final List<PlaybackState> states = new ArrayList<>();

  private boolean blocked;
  private boolean stopped;
  private Seek seek;
  private int seekAttempts;
  private double seekLatencyMs = -1;
  private int seeksMeasured;
  // How late the player starts after play() (the timer's and the player's delay), averaged over
  // the starts measured; play() is called this much early. startCheck carries the lead a start
  // used to the first check after it, which measures what the start really lost (NaN: none).
  private double startLeadMs;
  private int startsMeasured;
  private double startCheck = Double.NaN;
  private long settleUntilMs;
  private long nudgeUntilMs;
  private int trimsLeft;
  private double lastErrorMs = Double.NaN;
  private Timers.Handle checkTimer;
  private Timers.Handle switchTimer;
  private Timers.Handle nudgeTimer;
  private Timers.Handle startTimer;

  PlayerSync(Player player, ServerClock clock, LongSupplier localMs, Timers timers) {
    this.player = player;
    this.clock = clock;
    this.localMs = localMs;
    this.timers = timers;
  }

  /** Where the film is at server time {@code t} under {@code state} (room.proto's formula). */
  static double filmPositionAt(PlaybackState state, double t) {
    double duration =
        state.getTitleDurationMs() > 0 ? state.getTitleDurationMs() : Double.POSITIVE_INFINITY;
    if (!state.getPlaying()) {
      return Math.min(state.getPositionMs(), duration);
    }
    return Math.min(
        state.getPositionMs() + Math.max(0, t - state.getEffectiveAtMs()) * rateOf(state),
        duration);
  }

  private static double rateOf(PlaybackState state) {
    return state.getRate() > 0 ? state.getRate() : 1;
  }

  void setBands(SyncBands value) {
    bands = value;
    if (checkTimer != null) {
      checkTimer.cancel();
    }
    scheduleCheck();
  }

  private void scheduleCheck() {
    checkTimer =
        timers.schedule(
            () -> {
              check();
              scheduleCheck();
            },
            bands.checkIntervalMs());
  }

  /** A state from a snapshot ({@code replace}: the whole truth) or from a PlaybackChanged. */
  void follow(PlaybackState state, boolean replace) {
    if (replace) {
      states.clear();
    } else {
      // A later command supersedes any still-pending one that would take effect after it.
      states.removeIf(s -> s.getEffectiveAtMs() > state.getEffectiveAtMs());
    }
    states.add(state);
    scheduleSwitch();
    check();
  }

  /** While blocked (the title is not available in this region) the player stays paused. */
  void setBlocked(boolean value) {
    blocked = value;
    if (blocked) {
      endNudge();
      player.pause();
    }
    check();
  }

  void stop() {
    stopped = true;
    for (Timers.Handle h : new Timers.Handle[] {checkTimer, switchTimer, nudgeTimer, startTimer}) {
      if (h != null) {
        h.cancel();
      }
    }
    seek = null;
    nudgeUntilMs = 0;
    states.clear();
    player.pause();
  }

  /** The error found by the last check (media ms, positive = ahead), if a check measured one. */
  OptionalDouble lastErrorMs() {
    return Double.isNaN(lastErrorMs) ? OptionalDouble.empty() : OptionalDouble.of(lastErrorMs);
  }

  /** The error now, if the player follows a state: for diagnostics and tests. */
  OptionalDouble errorNowMs() {
    PlaybackState state = current();
    return state == null || !clock.ready()
        ? OptionalDouble.empty()
        : OptionalDouble.of(measureError(state));
  }

  private PlaybackState current() {
    double now = clock.nowMs();
    while (states.size() > 1 && states.get(1).getEffectiveAtMs() <= now) {
      states.remove(0);
    }
    return states.isEmpty() ? null : states.get(0);
  }

  // A change takes effect at its server instant: a timer wakes the player then, not at the next
  // periodic check, so that play and pause happen at the same moment on every screen.
  private void scheduleSwitch() {
    if (switchTimer != null) {
      switchTimer.cancel();
      switchTimer = null;
    }
    if (states.size() < 2) {
      return;
    }
    startOnTime(states.get(1));
    long delay = (long) Math.ceil(states.get(1).getEffectiveAtMs() - clock.nowMs());
    switchTimer =
        timers.schedule(
            () -> {
              endNudge();
              check();
              scheduleSwitch();
            },
            delay);
  }

  private void startOnTime(PlaybackState next) {
    PlaybackState now = states.get(0);
    if (seek != null || now.getPlaying() || !next.getPlaying() || blocked || bands == null) {
      return;
    }
    if (!clock.ready() || player.playing()) {
      return;
    }
    double waitMs = next.getEffectiveAtMs() - clock.nowMs() - startLeadMs;
    // Only a player that already shows the position the play starts from can start early.
    if (waitMs <= 0
        || Math.abs(player.positionMs() - next.getPositionMs()) >= Correction.PAUSED_TOLERANCE_MS) {
      return;
    }
    player.setRate(rateOf(next));
    Seek planned = new Seek(next, next.getPositionMs());
    seek = planned;
    startTimer = timers.schedule(() -> start(planned, true), Math.round(waitMs));
  }

  // The start a landed seek or a timed play was waiting for; onTime when it was called with the
  // lead. A start made before its state takes effect stands as the seek until then, so that no
  // check in between pauses the player again for the state still in effect.
  private void start(Seek planned, boolean onTime) {
    if (stopped || seek != planned) {
      return;
    }
    planned.started = true;
    if (current() == planned.state) {
      seekDone();
    }
    // Only a start made on time measures how late starts are.
    startCheck = onTime ? startLeadMs : Double.NaN;
    trimsLeft = TRIMS_PER_CHANGE;
    play(planned.state);
  }

  void check() {
    if (stopped || bands == null || blocked || !clock.ready()) {
      return;
    }
    PlaybackState state = current();
    if (state == null) {
      return;
    }
    if (seek != null) {
      if (seek.started && seek.state == state) {
        seekDone();
      } else if (states.contains(seek.state)) {
        return; // a seek (or its start) stands while its state is in effect or still to come
      } else {
        abandonSeek(); // planned for a state no longer in effect: moot
      }
    }
    double roomRate = rateOf(state);
    if (!state.getPlaying() && player.playing()) {
      player.pause();
    }
    if (nudgeUntilMs == 0 && player.rate() != roomRate) {
      // A room rate switch (or a nudge's end) made now, a timer's lateness after it was due.
      player.setRate(roomRate);
      if (state.getPlaying()) {
        trimsLeft = TRIMS_PER_CHANGE;
      }
    }
    if (localMs.getAsLong() < settleUntilMs) {
      play(state);
      return;
    }
    double error = measureError(state);
    lastErrorMs = error;
    // A start measured out of band (the room moved meanwhile, a stall) says nothing about starts.
    if (!Double.isNaN(startCheck) && state.getPlaying() && Math.abs(error) < bands.seekAboveMs()) {
      measureStart(startCheck - error / roomRate);
    }
    startCheck = Double.NaN;
    Correction correction;
    if (!state.getPlaying()) {
      correction = Correction.whilePaused(error);
    } else if (nudgeUntilMs != 0) {
      correction = Correction.whileNudging(error, bands);
    } else {
      correction = correctionNow(error, roomRate);
    }
    if (correction.kind() == Correction.Kind.SEEK) {
      seekTo(state);
    } else {
      play(state);
      if (correction.kind() == Correction.Kind.NUDGE) {
        nudge(correction, roomRate);
      }
    }
  }

  // The drift bands first; inside the ignore band, a trim while a change of ours is not finished.
  private Correction correctionNow(double errorMs, double roomRate) {
    Correction drift = Correction.forError(errorMs, roomRate, bands);
    if (drift.kind() == Correction.Kind.NUDGE) {
      trimsLeft = TRIMS_PER_CHANGE; // its end is a change too
    }
    if (drift.kind() != Correction.Kind.NONE || trimsLeft == 0) {
      return drift;
    }
    Correction trim = Correction.trim(errorMs, roomRate, bands);
    // Each trim uses one of the change's trims; an error under the trim threshold ends them.
    trimsLeft = trim.kind() == Correction.Kind.NONE ? 0 : trimsLeft - 1;
    return trim;
  }

  private double measureError(PlaybackState state) {
    return player.positionMs() - filmPositionAt(state, clock.nowMs());
  }

  private void play(PlaybackState state) {
    if (state.getPlaying() && !player.playing() && !blocked) {
      player.play();
    }
  }

  // A nudge is planned: its rate removes the error in its duration, then the room's rate returns
  // exactly on time, instead of being re-decided at each check around the edge of the band.
  private void nudge(Correction correction, double roomRate) {
    player.setRate(correction.rate());
    long duration = Math.max(1, Math.round(correction.durationMs()));
    nudgeUntilMs = localMs.getAsLong() + duration;
    nudgeTimer =
        timers.schedule(
            () -> {
              endNudge();
              player.setRate(roomRate);
              check();
            },
            duration);
  }

  private void endNudge() {
    if (nudgeTimer != null) {
      nudgeTimer.cancel();
      nudgeTimer = null;
    }
    nudgeUntilMs = 0;
  }

  // A seek takes a while and the film moves on meanwhile, so a playing player seeks, paused, to
  // where the film will be a little later than the seek is expected to take, then starts at the
  // instant the film gets there: its landing error is a timer's latency, not the seek's.
  private void seekTo(PlaybackState state) {
    endNudge();
    double ahead = state.getPlaying() ? 2 * Math.max(0, seekLatencyMs) : 0;
    double target = filmPositionAt(state, clock.nowMs() + ahead);
    if (state.getPlaying()) {
      player.pause();
    }
    player.setRate(rateOf(state));
    Seek planned = new Seek(state, target);
    seek = planned;
    long startedAt = localMs.getAsLong();
    player
        .seek(target)
        .whenComplete((ignored, failure) -> timers.execute(() -> landed(planned, startedAt)));
  }

  private void landed(Seek landed, long startedAtMs) {
    if (stopped || seek != landed) {
      return; // superseded meanwhile
    }
    measureSeek(localMs.getAsLong() - startedAtMs);
    PlaybackState state = landed.state;
    if (!state.getPlaying()) {
      seekDone();
      return;
    }
    double waitMs =
        (landed.target - filmPositionAt(state, clock.nowMs())) / rateOf(state) - startLeadMs;
    // Landed after the film passed the target (the first seek, with nothing measured yet, or a
    // slow one): aim again, further ahead now. Twice at most, then start late and let the bands
    // deal with what is left.
    if (waitMs < 0 && seekAttempts < 2) {
      seekAttempts++;
      seekTo(state);
      return;
    }
    boolean onTime = waitMs >= 0;
    startTimer = timers.schedule(() -> start(landed, onTime), Math.max(0, Math.round(waitMs)));
  }

  private void seekDone() {
    seek = null;
    seekAttempts = 0;
    settleUntilMs = localMs.getAsLong() + bands.seekSettleMs();
  }

  private void abandonSeek() {
    if (startTimer != null) {
      startTimer.cancel();
    }
    seek = null;
    seekAttempts = 0;
    startCheck = Double.NaN;
  }

  private void measureStart(double lostMs) {
    startsMeasured++;
    double weight = Math.max(1.0 / startsMeasured, 0.25);
    startLeadMs = Math.max(0, startLeadMs + weight * (lostMs - startLeadMs));
  }

  // The mean of the first few seeks, then a running mean: one slow seek moves it a little.
  private void measureSeek(long tookMs) {
    seeksMeasured++;
    double weight = Math.max(1.0 / seeksMeasured, 0.25);
    seekLatencyMs = seekLatencyMs < 0 ? tookMs : seekLatencyMs + weight * (tookMs - seekLatencyMs);
  }
}
