// The server's clock as this page estimates it, NTP-style (DESIGN section 3): several samples of
// the bridge's time endpoint (which answers in the gRPC server's clock), the one with the smallest
// round trip wins, refreshed periodically. Its error is at most half that round trip.
//
// A refresh on a busy machine may find only slow round trips: its estimate replaces the one held
// only if it is no less certain than the held one has become with age (two clocks drift apart by
// far less than MAX_DRIFT), so a noisy refresh does not step the film by milliseconds.

// 100 ppm: ten times what a PC's crystal drifts; after a 30 s refresh interval, 3 ms.
const MAX_DRIFT = 1e-4;

// performance.now() is monotonic: a wall-clock step on this machine does not move the estimate.
const localNow = () => performance.timeOrigin + performance.now();

export class ServerClock {
  constructor(endpoint = '/api/time') {
    this.endpoint = endpoint;
    this.offsetMs = 0;
    this.measuredUncertaintyMs = Infinity;
    this.measuredAt = 0;
    this.ready = false;
    this.timer = null;
  }

  now() {
    return localNow() + this.offsetMs;
  }

  /** How far off now() may be: half the winning round trip, plus the drift since it was taken. */
  get uncertaintyMs() {
    return this.measuredUncertaintyMs + MAX_DRIFT * (localNow() - this.measuredAt);
  }

  /** Estimates at once and then every `refreshMs`, taking `samples` requests each time. */
  start(samples, refreshMs) {
    this.stop();
    const run = () => this.estimate(samples);
    this.timer = setInterval(run, refreshMs);
    return run();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  async estimate(samples) {
    let best = null;
    for (let i = 0; i < samples; i++) {
      try {
        const sent = localNow();
        const response = await fetch(this.endpoint, { cache: 'no-store', credentials: 'same-origin' });
        if (!response.ok) continue;
        const { receiveMs, sendMs } = await response.json();
        const received = localNow();
        // The time the request spent travelling, without the server's own processing.
        const roundTrip = received - sent - (sendMs - receiveMs);
        if (!best || roundTrip < best.roundTrip) {
          best = { roundTrip, offset: (receiveMs - sent + (sendMs - received)) / 2 };
        }
      } catch {
        // A failed sample is just one fewer; the others (or the previous estimate) stand.
      }
    }
    if (!best) return false;
    const uncertainty = Math.max(best.roundTrip, 0) / 2;
    if (this.ready && uncertainty > this.uncertaintyMs) return true;
    this.offsetMs = best.offset;
    this.measuredUncertaintyMs = uncertainty;
    this.measuredAt = localNow();
    this.ready = true;
    return true;
  }
}
