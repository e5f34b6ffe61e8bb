package io.watchparty.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class StallWatchTest {
  private final AtomicLong now = new AtomicLong();
  private final StallWatch watch = new StallWatch(Duration.ofSeconds(5), now::get);

  @Test
  void aWriteWithinTheLimitIsLeftAlone() {
    StallWatch.Write write = watch.begin();
    now.addAndGet(Duration.ofSeconds(5).toNanos());

    assertThat(watch.interruptStalled()).isZero();
    assertThat(watch.end(write)).isFalse();
    assertThat(Thread.currentThread().isInterrupted()).isFalse();
  }

  @Test
  void aWriteOverTheLimitIsInterruptedOnceAndItsEndConsumesTheInterrupt() {
    StallWatch.Write write = watch.begin();
    now.addAndGet(Duration.ofSeconds(6).toNanos());

    assertThat(watch.interruptStalled()).isEqualTo(1);
    assertThat(watch.interruptStalled()).as("once").isZero();
    assertThat(Thread.currentThread().isInterrupted()).isTrue();
    assertThat(watch.end(write)).isTrue();
    assertThat(Thread.currentThread().isInterrupted()).isFalse();
  }

  @Test
  void aWriteThatEndedIsNeverInterruptedHoweverLongAgoItBegan() {
    StallWatch.Write write = watch.begin();
    now.addAndGet(Duration.ofMinutes(1).toNanos());
    assertThat(watch.end(write)).isFalse();

    assertThat(watch.interruptStalled()).isZero();
    assertThat(Thread.currentThread().isInterrupted()).isFalse();
  }

  /**
   * A writer whose writes all take "too long" (the clock jumps a minute per write) races a watch
   * that checks without pause: every interrupt it gets must be one its end() reported, never one
   * that lands after a write ended (which used to end a healthy stream while it waited).
   */
  @Test
  void anInterruptNeverLandsAfterTheWriteItWasMeantFor() throws InterruptedException {
    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicInteger strayInterrupts = new AtomicInteger();
    AtomicInteger reported = new AtomicInteger();
    Thread writer =
        Thread.ofPlatform()
            .start(
                () -> {
                  for (int i = 0; i < 200_000; i++) {
                    StallWatch.Write write = watch.begin();
                    now.addAndGet(Duration.ofMinutes(1).toNanos());
                    if (watch.end(write)) {
                      reported.incrementAndGet();
                    }
                    if (Thread.interrupted()) {
                      strayInterrupts.incrementAndGet();
                    }
                  }
                  writing.set(false);
                });
    int interrupted = 0;
    while (writing.get()) {
      interrupted += watch.interruptStalled();
    }
    writer.join();

    assertThat(strayInterrupts).hasValue(0);
    assertThat(reported).hasValue(interrupted);
  }
}
