// The server's clock as this page estimates it, NTP-style (DESIGN section 3): several samples of
// the bridge's time endpoint (which answers in the gRPC server's clock), the one with the smallest
// round trip wins, refreshed periodically. Its error is at most half that round trip.

const localNow = () => performance.timeOrigin + performance.now();

export class ServerClock {
  constructor() {
    this.offsetMs = 0;
    this.uncertaintyMs = Infinity;
    this.timer = null;
  }

  /** A first, rough estimate from a snapshot's server time (until the samples come in). */
  seed(serverTimeMs, receivedAtLocalMs) {
    if (this.uncertaintyMs === Infinity) {
      this.offsetMs = serverTimeMs - receivedAtLocalMs;
      this.uncertaintyMs = 1000;
    }
  }

  now() {
    return localNow() + this.offsetMs;
  }

  /** Estimates now and then every `refreshMs`, `samples` requests each time. */
  start(samples, refreshMs) {
    this.stop();
    const run = () => this.estimate(samples).catch(() => {});
    run();
    this.timer = setInterval(run, refreshMs);
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async estimate(samples) {
    let best = null;
    for (let i = 0; i < samples; i++) {
      const sent = localNow();
      const response = await fetch('/api/time', { cache: 'no-store', credentials: 'same-origin' });
      const { receiveMs, sendMs } = await response.json();
      const received = localNow();
      const roundTrip = received - sent - (sendMs - receiveMs);
      if (!best || roundTrip < best.roundTrip) {
        best = { roundTrip, offset: (receiveMs - sent + (sendMs - received)) / 2 };
      }
    }
    this.offsetMs = best.offset;
    this.uncertaintyMs = Math.max(best.roundTrip, 0) / 2;
  }
}
