// The server's clock as this page estimates it, NTP-style (DESIGN section 3): several samples of
// the bridge's time endpoint (which answers in the gRPC server's clock), the one with the smallest
// round trip wins, refreshed periodically. Its error is at most half that round trip.

// performance.now() is monotonic: a wall-clock step on this machine does not move the estimate.
const localNow = () => performance.timeOrigin + performance.now();

export class ServerClock {
  constructor(endpoint = '/api/time') {
    this.endpoint = endpoint;
    this.offsetMs = 0;
    this.uncertaintyMs = Infinity;
    this.ready = false;
    this.timer = null;
  }

  now() {
    return localNow() + this.offsetMs;
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
    this.offsetMs = best.offset;
    this.uncertaintyMs = Math.max(best.roundTrip, 0) / 2;
    this.ready = true;
    return true;
  }
}
