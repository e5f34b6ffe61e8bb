// Keeps a <video> on the room's playback state (DESIGN section 3). The state says where the film
// is at a server instant; the video shows a clip of `clipMs` that loops over the film, so the film
// position maps to the clip as position mod clipMs. The bands come from the room's sync policy:
//   |error| < ignoreBelowMs                  leave it
//   ignoreBelowMs <= |error| <= seekAboveMs  nudge playbackRate in proportion, at least minNudge
//   |error| > seekAboveMs                    seek, aiming ahead by the measured seek latency
// After a seek nothing is checked until it has landed and seekSettleMs has passed: no loops.

const num = (v) => (v === undefined || v === null ? 0 : Number(v));

/** Where the film should be at server time `t` under `state` (a PlaybackState JSON). */
export function filmPositionAt(state, t) {
  const position = num(state.positionMs);
  const duration = num(state.titleDurationMs) || Infinity;
  if (!state.playing) return Math.min(position, duration);
  const elapsed = Math.max(0, t - num(state.effectiveAtMs));
  return Math.min(position + elapsed * (state.rate || 1), duration);
}

/** The correction for an error (ms, positive = ahead) under `policy`: 'none', a rate, or 'seek'. */
export function correctionFor(errorMs, roomRate, policy) {
  const size = Math.abs(errorMs);
  if (size < num(policy.ignoreBelowMs)) return { kind: 'none', rate: roomRate };
  if (size > num(policy.seekAboveMs)) return { kind: 'seek' };
  const nudge = Math.min(policy.maxNudge, Math.max(policy.minNudge, size / num(policy.nudgeHorizonMs)));
  return { kind: 'nudge', rate: roomRate * (1 - Math.sign(errorMs) * nudge) };
}

export class Synchronizer {
  constructor(video, clock, clipMs, onChange) {
    this.video = video;
    this.clock = clock;
    this.clipMs = clipMs;
    this.onChange = onChange;
    this.policy = null;
    this.states = []; // the state in effect, then any that take effect later, by effectiveAtMs
    this.seeking = null; // { startedAt } while a seek of ours is in flight
    this.settleUntil = 0;
    this.seekLatencyMs = 50; // refined by every seek that lands
    this.errorMs = 0;
    this.correction = 'none';
    this.blocked = false; // the film is not available in this user's region
    this.timer = null;
    this.switchTimer = null;
    video.addEventListener('seeked', () => this.landed());
  }

  setPolicy(policy) {
    this.policy = policy;
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => this.check(), num(policy.checkIntervalMs));
  }

  /** A playback state from a snapshot (replaces all) or a playback_changed event (queued). */
  apply(state, replace) {
    if (replace) this.states = [state];
    else {
      this.states = this.states.filter((s) => num(s.effectiveAtMs) <= num(state.effectiveAtMs));
      this.states.push(state);
    }
    this.scheduleSwitch();
    this.check();
  }

  setBlocked(blocked) {
    this.blocked = blocked;
    if (blocked) this.video.pause();
    this.check();
  }

  /** The state in effect now (the latest whose effective time has come). */
  current() {
    const now = this.clock.now();
    while (this.states.length > 1 && num(this.states[1].effectiveAtMs) <= now) this.states.shift();
    return this.states[0] || null;
  }

  // A change takes effect at its server instant: a timer wakes us exactly then, not at the next
  // periodic check, so that play and pause happen at the same moment on every screen.
  scheduleSwitch() {
    if (this.switchTimer) clearTimeout(this.switchTimer);
    const next = this.states[1];
    if (!next) return;
    const wait = num(next.effectiveAtMs) - this.clock.now();
    this.switchTimer = setTimeout(() => {
      this.current();
      this.check(true);
      this.scheduleSwitch();
    }, Math.max(0, wait));
  }

  expectedClipMs(state, atServerMs) {
    return filmPositionAt(state, atServerMs) % this.clipMs;
  }

  check(atSwitch = false) {
    const state = this.current();
    if (!state || !this.policy || this.blocked) return;
    const video = this.video;
    const roomRate = state.rate || 1;
    if (!state.playing) {
      if (!video.paused) video.pause();
      video.playbackRate = roomRate;
    } else if (video.paused) {
      video.play().catch(() => {}); // muted autoplay is allowed; a refusal shows in the panel
    }
    const now = performance.now();
    if (this.seeking || now < this.settleUntil) return;
    const expected = this.expectedClipMs(state, this.clock.now());
    let error = video.currentTime * 1000 - expected;
    // The clip loops: the shortest way round is the error.
    if (error > this.clipMs / 2) error -= this.clipMs;
    if (error < -this.clipMs / 2) error += this.clipMs;
    this.errorMs = error;
    const correction = state.playing
      ? correctionFor(error, roomRate, this.policy)
      : Math.abs(error) < num(this.policy.ignoreBelowMs) ? { kind: 'none' } : { kind: 'seek' };
    if (correction.kind === 'seek' || (atSwitch && Math.abs(error) > num(this.policy.seekAboveMs))) {
      this.seekTo(state);
    } else if (state.playing && video.playbackRate !== correction.rate) {
      video.playbackRate = correction.rate;
    }
    this.correction = correction.kind === 'nudge' ? `rate ${correction.rate.toFixed(4)}` : correction.kind;
    this.onChange(this);
  }

  seekTo(state) {
    // Aim where the film will be when the seek lands, not where it is as it starts.
    const lead = state.playing ? this.seekLatencyMs * (state.rate || 1) : 0;
    const target = this.expectedClipMs(state, this.clock.now()) + lead;
    this.seeking = { startedAt: performance.now() };
    this.video.playbackRate = state.rate || 1;
    this.video.currentTime = (target % this.clipMs) / 1000;
    this.correction = 'seek';
  }

  landed() {
    if (!this.seeking) return;
    const took = performance.now() - this.seeking.startedAt;
    this.seekLatencyMs = 0.7 * this.seekLatencyMs + 0.3 * took;
    this.seeking = null;
    this.settleUntil = performance.now() + num(this.policy.seekSettleMs);
  }
}
