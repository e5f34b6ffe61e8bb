package io.watchparty.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class StreamSlotsTest {
  @Test
  void aUserGetsUpToTheirLimitAndASlotBackForEachClosedStream() {
    StreamSlots slots = new StreamSlots(100, 2);

    assertThat(slots.reserve("bob")).isTrue();
    assertThat(slots.reserve("bob")).isTrue();
    assertThat(slots.reserve("bob")).isFalse();
    assertThat(slots.reserve("alice")).isTrue();
    slots.release("bob");

    assertThat(slots.reserve("bob")).isTrue();
    assertThat(slots.open()).isEqualTo(3);
  }

  @Test
  void theBridgeLimitCountsEveryUser() {
    StreamSlots slots = new StreamSlots(2, 5);

    assertThat(slots.reserve("bob")).isTrue();
    assertThat(slots.reserve("alice")).isTrue();
    assertThat(slots.reserve("chiara")).isFalse();
    assertThat(slots.openOf("chiara")).isZero();
    assertThat(slots.open()).isEqualTo(2);
  }

  /**
   * Tabs of one user opening and closing at once on many threads: never more held than the limit,
   * and once all are closed the user has every slot back (a reservation that raced a release used
   * to count on a counter the release had just dropped).
   */
  @Test
  void opensAndClosesRacingEachOtherLoseNoSlot() throws InterruptedException {
    int limit = 3;
    StreamSlots slots = new StreamSlots(1_000, limit);
    AtomicInteger held = new AtomicInteger();
    AtomicInteger mostHeld = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> tabs = new ArrayList<>();
    for (int t = 0; t < 6; t++) {
      tabs.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      start.await();
                    } catch (InterruptedException e) {
                      return;
                    }
                    for (int i = 0; i < 50_000; i++) {
                      if (slots.reserve("bob")) {
                        mostHeld.accumulateAndGet(held.incrementAndGet(), Math::max);
                        held.decrementAndGet();
                        slots.release("bob");
                      }
                    }
                  }));
    }
    start.countDown();
    for (Thread tab : tabs) {
      tab.join();
    }

    assertThat(mostHeld.get()).isLessThanOrEqualTo(limit);
    assertThat(slots.openOf("bob")).isZero();
    assertThat(slots.open()).isZero();
    for (int i = 0; i < limit; i++) {
      assertThat(slots.reserve("bob")).as("slot %d after every tab closed", i + 1).isTrue();
    }
  }
}
