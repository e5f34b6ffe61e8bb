// Keeps a <video> on the room's playback state (DESIGN section 3). Knows nothing of the page: it is
// given the video element, a server clock and the room's sync policy, and reports what it does.
//
// The demo media is one clip for every film, looping, so the film position maps onto the clip as
// position mod clip length. The bands come from the snapshot's sync policy:
//   |error| < ignoreBelowMs                   leave it
//   ignoreBelowMs <= |error| <= seekAboveMs   nudge playbackRate in proportion, for a planned time
//   |error| > seekAboveMs                     seek, aiming ahead by the measured seek latency
// Nothing is re-checked while a seek is in flight, nor for seekSettleMs after it landed, nor while
// a planned nudge runs: each correction finishes before the next is chosen, so the loop cannot hunt.

const num = (value) => (value === undefined || value === null ? 0 : Number(value));

/** Where the film is at server time `t` under a PlaybackState (proto3 JSON: int64 as strings). */
export function filmPositionAt(state, t) {
  const position = num(state.positionMs);
  const duration = num(state.titleDurationMs) || Infinity;
  if (!state.playing) return Math.min(position, duration);
  return Math.min(position + Math.max(0, t - num(state.effectiveAtMs)) * num(state.rate), duration);
}

/**
 * The correction for an error (media ms, positive = ahead of the room) under `policy`:
 * `{kind: 'none'}`, `{kind: 'seek'}`, or `{kind: 'nudge', rate, durationMs}` where the nudged rate
 * removes the error in `durationMs` of wall time. The nudge is at least minNudge away from the
 * room's rate (browsers ignore smaller changes) and at most maxNudge.
 */
export function correctionFor(errorMs, roomRate, policy) {
  const size = Math.abs(errorMs);
  if (size < num(policy.ignoreBelowMs)) return { kind: 'none' };
  if (size > num(policy.seekAboveMs)) return { kind: 'seek' };
  const nudge = Math.min(policy.maxNudge, Math.max(policy.minNudge, size / num(policy.nudgeHorizonMs)));
  return {
    kind: 'nudge',
    rate: roomRate * (1 - Math.sign(errorMs) * nudge),
    durationMs: size / (roomRate * nudge),
  };
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
    this.seek = null; // { startedAt } while a seek of ours is in flight
    this.settleUntil = 0;
    this.nudgeUntil = 0;
    this.seekLatencyMs = null; // average seeking-to-seeked time; null until a seek has been measured
    this.seeksMeasured = 0;
    this.frame = null; // the last presented frame: { mediaTime, presentedFrames }
    this.checkTimer = null;
    this.switchTimer = null;
    this.nudgeTimer = null;

    video.addEventListener('seeked', () => this.landed());
    // A new source (a title change) abandons any seek of ours on the old one.
    video.addEventListener('emptied', () => {
      this.seek = null;
      this.endNudge();
    });
    video.addEventListener('loadedmetadata', () => this.check());
    video.addEventListener('waiting', () => onBuffering(true));
    video.addEventListener('playing', () => onBuffering(false));
    if ('requestVideoFrameCallback' in HTMLVideoElement.prototype) this.watchFrames();
  }

  setPolicy(policy) {
    this.policy = policy;
    clearInterval(this.checkTimer);
    this.checkTimer = setInterval(() => this.check(), num(policy.checkIntervalMs));
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
    this.switchTimer = setTimeout(() => {
      this.endNudge();
      this.check();
      this.scheduleSwitch();
    }, Math.max(0, num(next.effectiveAtMs) - this.clock.now()));
  }

  check() {
    const state = this.current();
    const video = this.video;
    if (!state || !this.policy || this.blocked || !this.clock.ready || !this.clipMs) return;
    const roomRate = num(state.rate) || 1;
    if (!state.playing && !video.paused) video.pause();
    if (state.playing && video.paused && !this.seek) {
      video.playbackRate = roomRate;
      video.play().catch((error) => {
        // AbortError: a pause or a new source came first, which is no refusal.
        if (error.name === 'NotAllowedError') this.onPlayRefused();
      });
    }
    if (!this.nudgeUntil && video.playbackRate !== roomRate) video.playbackRate = roomRate;

    const now = performance.now();
    if (this.seek || now < this.settleUntil) return;
    this.errorMs = this.measureError(state);
    const correction = state.playing
      ? correctionFor(this.errorMs, roomRate, this.policy)
      : { kind: Math.abs(this.errorMs) < num(this.policy.ignoreBelowMs) ? 'none' : 'seek' };
    if (correction.kind === 'seek') {
      this.seekTo(state);
    } else if (correction.kind === 'nudge' && !this.nudgeUntil) {
      this.nudge(correction, roomRate);
    } else if (!this.nudgeUntil) {
      this.correction = 'none';
    }
    this.onUpdate(this);
  }

  // The position is read from currentTime, not from presented frames: frames reach the screen on
  // a 16.7 ms display grid, and an error taken from them jitters by that much and makes a loop
  // hunt (measured in headless Chromium here, DESIGN section 7); currentTime follows the media
  // clock continuously.
  measureError(state) {
    const clip = this.clipMs;
    const expected = filmPositionAt(state, this.clock.now()) % clip;
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
    this.correction = `nudge ×${rate.toFixed(4)} for ${Math.round(durationMs)} ms`;
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

  seekTo(state) {
    this.endNudge();
    // Aim where the film will be when the seek lands, not where it is as it starts.
    const lead = state.playing ? (this.seekLatencyMs ?? 0) * num(state.rate) : 0;
    const target = (filmPositionAt(state, this.clock.now()) + lead) % this.clipMs;
    this.seek = { startedAt: performance.now() };
    this.video.playbackRate = num(state.rate) || 1;
    this.video.currentTime = target / 1000;
    this.correction = `seek to ${(target / 1000).toFixed(3)} s`;
  }

  landed() {
    if (!this.seek) return; // the clip looping back to its start, not a seek of ours
    const took = performance.now() - this.seek.startedAt;
    this.seeksMeasured++;
    // A running mean over the last few seeks: one slow seek on a busy machine moves it a little.
    const weight = Math.max(1 / this.seeksMeasured, 0.25);
    this.seekLatencyMs = this.seekLatencyMs === null ? took : this.seekLatencyMs + weight * (took - this.seekLatencyMs);
    this.seek = null;
    this.settleUntil = performance.now() + num(this.policy.seekSettleMs);
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
