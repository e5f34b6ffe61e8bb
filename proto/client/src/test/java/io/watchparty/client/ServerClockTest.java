package io.watchparty.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.Test;

class ServerClockTest {
  private static final long TRUE_OFFSET = 5_000; // the server is 5 s ahead of this machine

  @Test
  void smallestRoundTripWinsAndItsHalfBoundsTheError() {
    ClockEstimator round = new ClockEstimator();
    // Server = local + 5000. Up 30 ms / down 10 ms, then up 4 / down 2 (the best), then 50 / 1.
    sample(round, 1_000, 30, 10);
    sample(round, 2_000, 4, 2);
    sample(round, 3_000, 50, 1);
    ClockEstimator.Estimate estimate = round.estimate().orElseThrow();
    assertThat(estimate.uncertaintyMs()).isEqualTo(3.0); // (4 + 2) / 2
    assertThat(estimate.offsetMs()).isEqualTo(TRUE_OFFSET + (4 - 2) / 2.0);
    assertThat(Math.abs(estimate.offsetMs() - TRUE_OFFSET)).isLessThanOrEqualTo(3.0);
  }

  private static void sample(ClockEstimator round, long sent, long up, long down) {
    long serverReceive = sent + up + TRUE_OFFSET;
    long serverSend = serverReceive + 1; // a millisecond of server processing, not counted
    round.add(sent, serverReceive, serverSend, serverSend - TRUE_OFFSET + down);
  }

  /** A room stream whose pings travel with asymmetric delays, in virtual time. */
  private static final class FakeStream {
    final VirtualTime time = new VirtualTime(1_000_000);
    final Deque<long[]> delays = new ArrayDeque<>(); // {up, down} per ping
    ServerClock clock;
    int pings;

    void ping(long clientSend) {
      pings++;
      long[] d = delays.isEmpty() ? new long[] {20, 20} : delays.poll();
      time.schedule(
          () -> {
            long serverReceive = time.now() + TRUE_OFFSET;
            time.schedule(() -> clock.onPong(clientSend, serverReceive, serverReceive), d[1]);
          },
          d[0]);
    }
  }

  @Test
  void estimatesOverPingsOneAfterAnotherAndRefreshes() {
    FakeStream stream = new FakeStream();
    stream.clock = new ServerClock(stream.time::now, stream.time, stream::ping);
    // 8 samples: the sixth has the smallest round trip (3 up, 1 down).
    for (long[] d :
        new long[][] {{40, 5}, {9, 30}, {25, 25}, {15, 2}, {60, 60}, {3, 1}, {7, 8}, {12, 3}}) {
      stream.delays.add(d);
    }
    stream.clock.start(8, 30_000);
    assertThat(stream.clock.ready()).isFalse();
    stream.time.advance(1_000);

    assertThat(stream.pings).isEqualTo(8);
    assertThat(stream.clock.ready()).isTrue();
    assertThat(stream.clock.offsetMs()).isCloseTo(TRUE_OFFSET + 1.0, within(1e-9)); // (3-1)/2
    assertThat(stream.clock.uncertaintyMs()).isCloseTo(2.0, within(0.1)); // plus 100 ppm of age
    assertThat(stream.clock.nowMs() - (stream.time.now() + TRUE_OFFSET))
        .isCloseTo(1.0, within(1e-9));

    // The refresh finds only slow samples: less certain than the held estimate, so it stays.
    for (int i = 0; i < 8; i++) {
      stream.delays.add(new long[] {100, 10});
    }
    stream.time.advance(30_000);
    assertThat(stream.pings).isEqualTo(16);
    assertThat(stream.clock.offsetMs()).isCloseTo(TRUE_OFFSET + 1.0, within(1e-9));

    // A later refresh as good as the first replaces it (the held one has aged by then).
    for (int i = 0; i < 8; i++) {
      stream.delays.add(new long[] {2, 2});
    }
    stream.time.advance(30_000);
    assertThat(stream.pings).isEqualTo(24);
    assertThat(stream.clock.offsetMs()).isCloseTo(TRUE_OFFSET, within(1e-9));
    assertThat(stream.clock.uncertaintyMs()).isCloseTo(2.0, within(0.1)); // plus 100 ppm of age
  }
}
