// Keeps a <video> on the room's playback state (DESIGN section 3). Knows nothing of the page: it is
// given the video element, a server clock and the room's sync policy, and reports what it does.
//
// The demo media is one clip for every film, looping, so the film position maps onto the clip as
// position mod clip length. The bands come from the snapshot's sync policy:
//   |error| < ignoreBelowMs                   leave it
//   ignoreBelowMs <= |error| <= seekAboveMs   nudge playbackRate in proportion, for a planned time
//   |error| > seekAboveMs                     seek ahead, then start exactly when the film gets there
// Nothing is re-checked while a seek is in flight, nor for seekSettleMs after it landed, nor while
// a planned nudge runs: each correction finishes before the next is chosen, so the loop cannot hunt.
//
// The ignore band is for drift found by the periodic check. A change this player makes itself (a
// start, a room rate switch, the end of a nudge) lands late by a timer's lateness, which costs
// (old rate - new rate) x lateness of film (40 ms late into x1.5 is 20 ms behind): that error is
// ours, known at once from currentTime, and is trimmed by a small planned nudge down to
// TRIM_BELOW_MS, however far inside the ignore band it is. Up to TRIMS_PER_CHANGE trims follow a
// change; each is smaller than the one before, so they end.
//
// The decisions are the pure functions below (syncBands, correctionFor, pausedCorrectionFor,
// nudgingCorrectionFor, trimFor). They run the golden vectors of proto/sync-vectors.json in
// web-bridge/src/test/js/sync.test.mjs, as the server's SyncPolicy and the Java client's SyncBands
// and Correction do, so that the three keep one set of rules.

import { num } from './api.js';

// A paused player has no drift to absorb, only a position to show: it sits exactly on it, since a
// seek while paused costs nothing visible. A millisecond is far below a frame and far above the
// rounding of currentTime.
const PAUSED_TOLERANCE_MS = 1;

// What a change of ours may leave behind: a sixteenth of a frame at 30 fps, well above the error of
// this page's clock estimate on a LAN (about half a round trip).
const TRIM_BELOW_MS = 2;
const TRIMS_PER_CHANGE = 3;

// A trim takes back an error of ours over this much wall time (still within the policy's minimum
// and maximum nudge), not the policy's nudge horizon: drift found by the periodic check is absorbed
// gently, but a switch that landed 40 ms off is taken back in under a second at the 5 % maximum
// rather than over the whole 2 s horizon, where it is most of the p99 (load-tests/README.md).
const TRIM_HORIZON_MS = 500;

/** The defaults of io.watchparty.proto.SyncBands (the server's), as numbers. */
export const SYNC_DEFAULTS = Object.freeze({
  ignoreBelowMs: 40,
  seekAboveMs: 1000,
  nudgeHorizonMs: 2000,
  minNudge: 0.0011,
  maxNudge: 0.05,
  seekSettleMs: 300,
  checkIntervalMs: 250,
  clockSamples: 8,
  clockRefreshMs: 30000,
});

/**
 * The snapshot's sync policy (proto3 JSON: int64 as strings, NaN as "NaN") as numbers, refused
 * (an Error naming room.proto's field first) when the server would refuse it. A missing or empty
 * policy (an older server) gets the server's defaults, so that every player applies the same bands.
 */
export function syncBands(policy) {
  const bands = Object.fromEntries(Object.keys(SYNC_DEFAULTS).map((key) => [key, num(policy?.[key])]));
  if (Object.values(bands).every((value) => value === 0)) return SYNC_DEFAULTS;
  const bad = (field, value, rule) => new Error(`${field} (${value}) ${rule} in the sync policy`);
  const { ignoreBelowMs, seekAboveMs, minNudge, maxNudge } = bands;
  if (ignoreBelowMs < 0) throw bad('ignore_below_ms', ignoreBelowMs, 'must not be negative');
  // Equal bands would leave no error to nudge: everything would be ignored or seeked.
  if (!(seekAboveMs > ignoreBelowMs)) {
    throw bad('seek_above_ms', seekAboveMs, `must be above ignore_below_ms (${ignoreBelowMs})`);
  }
  if (!(bands.nudgeHorizonMs >= 1)) throw bad('nudge_horizon_ms', bands.nudgeHorizonMs, 'must be at least 1');
  // Written so that NaN fails too.
  if (!(minNudge > 0)) throw bad('min_nudge', minNudge, 'must be above 0');
  if (!(maxNudge >= minNudge) || maxNudge > 0.5) {
    throw bad('max_nudge', maxNudge, `must be at least min_nudge (${minNudge}) and at most 0.5`);
  }
  if (!(bands.seekSettleMs >= 0)) throw bad('seek_settle_ms', bands.seekSettleMs, 'must not be negative');
  if (!(bands.checkIntervalMs >= 1)) throw bad('check_interval_ms', bands.checkIntervalMs, 'must be at least 1');
  if (!(bands.clockSamples >= 1)) throw bad('clock_samples', bands.clockSamples, 'must be at least 1');
  if (!(bands.clockRefreshMs >= 1)) throw bad('clock_refresh_ms', bands.clockRefreshMs, 'must be at least 1');
  return Object.freeze(bands);
}

/** Where the film is at server time `t` under a PlaybackState (proto3 JSON: int64 as strings). */
export function filmPositionAt(state, t) {
  const position = num(state.positionMs);
  const duration = num(state.titleDurationMs) || Infinity;
  if (!state.playing) return Math.min(position, duration);
  return Math.min(position + Math.max(0, t - num(state.effectiveAtMs)) * num(state.rate), duration);
}

/**
 * The correction for drift found by the periodic check of a playing video, an error (media ms,
 * positive = ahead of the room) under `bands` (from syncBands): `{kind: 'none'}`, `{kind: 'seek'}`,
 * or `{kind: 'nudge', rate, durationMs}` where the nudged rate removes the error in `durationMs` of
 * wall time. The nudge is at least minNudge away from the room's rate (browsers ignore smaller
 * changes) and at most maxNudge.
 */
export function correctionFor(errorMs, roomRate, bands) {
  const size = Math.abs(errorMs);
  // A zero error under a policy that ignores nothing would be a nudge to the room's own rate.
  if (size === 0 || size < bands.ignoreBelowMs) return { kind: 'none' };
  if (size > bands.seekAboveMs) return { kind: 'seek' };
  const nudge = Math.min(bands.maxNudge, Math.max(bands.minNudge, size / bands.nudgeHorizonMs));
  return {
    kind: 'nudge',
    rate: roomRate * (1 - Math.sign(errorMs) * nudge),
    durationMs: size / (roomRate * nudge),
  };
}

/** A paused video sits within PAUSED_TOLERANCE_MS of the position, or seeks. */
export function pausedCorrectionFor(errorMs) {
  return { kind: Math.abs(errorMs) < PAUSED_TOLERANCE_MS ? 'none' : 'seek' };
}

/** While a planned nudge runs, only the seek band applies: the nudge finishes first. */
export function nudgingCorrectionFor(errorMs, bands) {
  return { kind: Math.abs(errorMs) > bands.seekAboveMs ? 'seek' : 'none' };
}

/**
 * The trim of an error that a change of this player's own left inside the ignore band: nothing
 * under TRIM_BELOW_MS, else a nudge with no ignore band over TRIM_HORIZON_MS.
 */
export function trimFor(errorMs, roomRate, bands) {
  if (Math.abs(errorMs) < TRIM_BELOW_MS) return { kind: 'none' };
  return correctionFor(errorMs, roomRate, { ...bands, ignoreBelowMs: 0, nudgeHorizonMs: TRIM_HORIZON_MS });
}

export class Synchronizer {
  /**
   * @param video the <video> to drive (looping, muted)
   * @param clock a ServerClock: `now()` in server milliseconds, `ready` once it has an estimate
   * @param onUpdate called with this synchronizer after every check, for diagnostics
   * @param onBuffering called with true when the video stalls for data and false when it plays on
   * @param onPlayRefused called when the browser refuses to start the video without a gesture
   */
  constructor(video, clock, { onUpdate = () => {}, onBuffering = () => {}, onPlayRefused = () => {} } = {}) {
    this.video = video;
    this.clock = clock;
    this.onUpdate = onUpdate;
    this.onPlayRefused = onPlayRefused;
    this.policy = null;
    // The state in effect first, then those that take effect later, ordered by effectiveAtMs.
    this.states = [];
    this.blocked = false;
    this.errorMs = null;
    this.correction = 'waiting';
    // While a seek of ours is in flight or waits to start: { state, target, startedAt, landed, timer }.
    this.seek = null;
    this.seekAttempts = 0;
    this.settleUntil = 0;
    this.nudgeUntil = 0;
    this.trimsLeft = 0; // trims still allowed after the last change of ours
    this.seekLatencyMs = null; // average seeking-to-seeked time; null until a seek has been measured
    this.seeksMeasured = 0;
    // How late a video starts after its seek landed (the timer's and play()'s delay), averaged
    // over the seeks measured; play() is called this much early. `startCheck` carries the lead a
    // start used to the first check after it, which measures what the start really lost.
    this.startLeadMs = 0;
    this.startsMeasured = 0;
    this.startCheck = null;
    this.frame = null; // the last presented frame: { mediaTime, presentedFrames }
    this.checkTimer = null;
    this.switchTimer = null;
    this.nudgeTimer = null;

    video.addEventListener('seeked', () => this.landed());
    // A new source (a title change) abandons any seek of ours on the old one.
    video.addEventListener('emptied', () => {
      this.abandonSeek();
      this.endNudge();
    });
    video.addEventListener('loadedmetadata', () => this.check());
    video.addEventListener('waiting', () => onBuffering(true));
    video.addEventListener('playing', () => onBuffering(false));
    if ('requestVideoFrameCallback' in HTMLVideoElement.prototype) this.watchFrames();
  }

  /** The snapshot's sync policy; one the server would refuse is refused here too (syncBands). */
  setPolicy(policy) {
    this.policy = syncBands(policy);
    clearInterval(this.checkTimer);
    this.checkTimer = setInterval(() => this.check(), this.policy.checkIntervalMs);
  }

  /** A state from a snapshot (`replace`: it is the whole truth) or from a playback_changed event. */
  follow(state, replace) {
    if (replace) {
      this.states = [state];
    } else {
      // A later command supersedes any still-pending one that would take effect after it.
      this.states = this.states.filter((s) => num(s.effectiveAtMs) <= num(state.effectiveAtMs));
      this.states.push(state);
    }
    this.scheduleSwitch();
    this.check();
  }

  /** While blocked (the film is not available in this region) the video stays paused. */
  setBlocked(blocked) {
    this.blocked = blocked;
    if (blocked) {
      this.endNudge();
      this.video.pause();
    }
    this.check();
  }

  stop() {
    clearInterval(this.checkTimer);
    clearTimeout(this.switchTimer);
    this.abandonSeek();
    this.endNudge();
    this.video.pause();
    this.states = [];
  }

  /** The state in effect now: the latest whose effective time has come. */
  current() {
    const now = this.clock.now();
    while (this.states.length > 1 && num(this.states[1].effectiveAtMs) <= now) this.states.shift();
    return this.states[0] || null;
  }

  /** Where the film should be now, by this page's estimate of the server clock. */
  expectedFilmMs() {
    const state = this.current();
    return state ? filmPositionAt(state, this.clock.now()) : null;
  }

  get clipMs() {
    return Number.isFinite(this.video.duration) ? this.video.duration * 1000 : 0;
  }

  // A change takes effect at its server instant: a timer wakes the player then, not at the next
  // periodic check, so that play and pause happen at the same moment on every screen.
  scheduleSwitch() {
    clearTimeout(this.switchTimer);
    const next = this.states[1];
    if (!next) return;
    this.startOnTime(next);
    this.switchTimer = setTimeout(() => {
      this.endNudge();
      this.check();
      this.scheduleSwitch();
    }, Math.max(0, num(next.effectiveAtMs) - this.clock.now()));
  }

  // A play from a pause starts like a landed seek: the paused video already shows the position the
  // film will be at when the play takes effect, so play() is called startLeadMs before that instant
  // instead of at it, and the start is measured like a seek's.
  startOnTime(next) {
    const video = this.video;
    const now = this.states[0];
    if (this.seek || !now || now.playing || !next.playing || this.blocked || !this.policy) return;
    if (!this.clock.ready || !this.clipMs || !video.paused || video.seeking) return;
    const waitMs = num(next.effectiveAtMs) - this.clock.now() - this.startLeadMs;
    if (waitMs <= 0 || Math.abs(this.measureError(next, num(next.effectiveAtMs))) >= PAUSED_TOLERANCE_MS) return;
    video.playbackRate = num(next.rate) || 1;
    this.seek = { state: next, target: num(next.positionMs), startedAt: performance.now(), landed: true, timer: null };
    this.seek.timer = setTimeout(() => this.start(next, true), waitMs);
    this.correction = `starting in ${waitMs.toFixed(0)} ms`;
  }

  // The start a seek or a play was waiting for; `onTime` when it was called with the lead. A start
  // made before its state takes effect stays this.seek until then, so that no check in between
  // pauses the video again for the state still in effect.
  start(state, onTime) {
    this.seek.started = true;
    if (this.current() === state) this.seekDone();
    // Only a start made on time measures how late starts are.
    this.startCheck = onTime ? this.startLeadMs : null;
    this.trimsLeft = TRIMS_PER_CHANGE;
    this.play(state);
  }

  check() {
    const state = this.current();
    const video = this.video;
    if (!state || !this.policy || this.blocked || !this.clock.ready || !this.clipMs) return;
    if (this.seek) {
      if (this.seek.started && this.seek.state === state) this.seekDone();
      // A seek (or start) stands while its state is in effect or still to come.
      else if (this.states.includes(this.seek.state)) return;
      // Planned for a state no longer in effect (a pause or another seek came first): moot.
      else this.abandonSeek();
    }
    const roomRate = num(state.rate) || 1;
    if (!state.playing && !video.paused) video.pause();
    if (!this.nudgeUntil && video.playbackRate !== roomRate) {
      // A room rate switch (or a nudge's end) made now, a timer's lateness after it was due.
      video.playbackRate = roomRate;
      if (state.playing) this.trimsLeft = TRIMS_PER_CHANGE;
    }
    if (performance.now() < this.settleUntil) return this.play(state);

    this.errorMs = this.measureError(state);
    // A start measured out of band (the room moved meanwhile, a stall) says nothing about starts.
    if (this.startCheck !== null && state.playing && Math.abs(this.errorMs) < this.policy.seekAboveMs) {
      this.measureStart(this.startCheck - this.errorMs / roomRate);
    }
    this.startCheck = null;
    let correction;
    if (!state.playing) correction = pausedCorrectionFor(this.errorMs);
    else if (this.nudgeUntil) correction = nudgingCorrectionFor(this.errorMs, this.policy);
    else correction = this.correctionNow(this.errorMs, roomRate);
    if (correction.kind === 'seek') {
      this.seekTo(state);
    } else {
      this.play(state);
      if (correction.kind === 'nudge') this.nudge(correction, roomRate);
      else if (!this.nudgeUntil) this.correction = 'none';
    }
    return this.onUpdate(this);
  }

  // The drift bands first; inside the ignore band, a trim while a change of ours is not finished.
  correctionNow(errorMs, roomRate) {
    const drift = correctionFor(errorMs, roomRate, this.policy);
    if (drift.kind === 'nudge') this.trimsLeft = TRIMS_PER_CHANGE; // its end is a change too
    if (drift.kind !== 'none' || this.trimsLeft === 0) return drift;
    const trim = trimFor(errorMs, roomRate, this.policy);
    // Each trim uses one of the change's trims; an error under the trim threshold ends them.
    this.trimsLeft = trim.kind === 'none' ? 0 : this.trimsLeft - 1;
    return trim;
  }

  play(state) {
    if (!state.playing || !this.video.paused || this.blocked) return;
    this.video.play().catch((error) => {
      // AbortError: a pause or a new source came first, which is no refusal.
      if (error.name === 'NotAllowedError') this.onPlayRefused();
    });
  }

  // The position is read from currentTime, not from presented frames: frames reach the screen on
  // a 16.7 ms display grid, and an error taken from them jitters by that much and makes a loop
  // hunt (measured in headless Chromium here, DESIGN section 7); currentTime follows the media
  // clock continuously.
  measureError(state, at = this.clock.now()) {
    const clip = this.clipMs;
    const expected = filmPositionAt(state, at) % clip;
    let error = this.video.currentTime * 1000 - expected;
    // The clip loops: the error is the shorter way round.
    if (error > clip / 2) error -= clip;
    if (error < -clip / 2) error += clip;
    return error;
  }

  // A nudge is planned: its rate removes the error in `durationMs`, then the room's rate returns
  // exactly on time, instead of being re-decided at each check around the edge of the band.
  nudge({ rate, durationMs }, roomRate) {
    this.video.playbackRate = rate;
    this.nudgeUntil = performance.now() + durationMs;
    this.correction = `${this.trimsLeft < TRIMS_PER_CHANGE ? 'trim' : 'nudge'} ×${rate.toFixed(4)} for ${Math.round(durationMs)} ms`;
    this.nudgeTimer = setTimeout(() => {
      this.endNudge();
      this.video.playbackRate = roomRate;
      this.check();
    }, durationMs);
  }

  endNudge() {
    clearTimeout(this.nudgeTimer);
    this.nudgeUntil = 0;
  }

  // A seek takes tens of milliseconds and the film moves on meanwhile, so a playing video seeks,
  // paused, to where the film will be a little later than the seek is expected to take (twice the
  // average: seeks here take p50 ~33 ms and p95 ~60 ms), then starts at the instant the film gets
  // there. Its landing error is then a timer's and play()'s latency, not the seek's.
  seekTo(state) {
    this.endNudge();
    const rate = num(state.rate) || 1;
    const ahead = state.playing ? 2 * (this.seekLatencyMs ?? 0) : 0;
    const target = filmPositionAt(state, this.clock.now() + ahead);
    if (state.playing) this.video.pause();
    this.seek = { state, target, startedAt: performance.now(), landed: false, timer: null };
    this.video.playbackRate = rate;
    this.video.currentTime = (target % this.clipMs) / 1000;
    this.correction = `seek to ${(target / 1000).toFixed(3)} s`;
  }

  landed() {
    const seek = this.seek;
    if (!seek || seek.landed) return; // the clip looping back to its start, not a seek of ours
    seek.landed = true;
    this.measureSeek(performance.now() - seek.startedAt);
    const { state, target } = seek;
    if (!state.playing) return this.seekDone();
    const waitMs = (target - filmPositionAt(state, this.clock.now())) / (num(state.rate) || 1) - this.startLeadMs;
    // Landed after the film passed the target (the first seek, with nothing measured yet, or a
    // slow one): aim again, further ahead now. Twice at most, then start late and let the bands
    // deal with what is left.
    if (waitMs < 0 && this.seekAttempts < 2) {
      this.seekAttempts++;
      return this.seekTo(state);
    }
    const onTime = waitMs >= 0;
    seek.timer = setTimeout(() => this.start(state, onTime), Math.max(0, waitMs));
    this.correction = `seek landed, starting in ${Math.max(0, waitMs).toFixed(0)} ms`;
    return undefined;
  }

  seekDone() {
    this.seek = null;
    this.seekAttempts = 0;
    this.settleUntil = performance.now() + this.policy.seekSettleMs;
  }

  abandonSeek() {
    if (this.seek) clearTimeout(this.seek.timer);
    this.seek = null;
    this.seekAttempts = 0;
    this.startCheck = null;
  }

  measureStart(lostMs) {
    this.startsMeasured++;
    const weight = Math.max(1 / this.startsMeasured, 0.25);
    this.startLeadMs = Math.max(0, this.startLeadMs + weight * (lostMs - this.startLeadMs));
  }

  measureSeek(tookMs) {
    this.seeksMeasured++;
    // The mean of the first few seeks, then a running mean: one slow seek on a busy machine moves
    // it a little, a machine that got slower moves it within a few seeks.
    const weight = Math.max(1 / this.seeksMeasured, 0.25);
    this.seekLatencyMs = this.seekLatencyMs === null ? tookMs : this.seekLatencyMs + weight * (tookMs - this.seekLatencyMs);
  }

  // Presented frames, for the diagnostics panel (what the viewer actually sees).
  watchFrames() {
    const onFrame = (_now, metadata) => {
      this.frame = { mediaTime: metadata.mediaTime, presentedFrames: metadata.presentedFrames };
      this.video.requestVideoFrameCallback(onFrame);
    };
    this.video.requestVideoFrameCallback(onFrame);
  }
}
