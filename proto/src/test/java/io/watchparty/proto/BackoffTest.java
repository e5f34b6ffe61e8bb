package io.watchparty.proto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
  private final Backoff backoff = Backoff.doubling(Duration.ofMillis(250), Duration.ofSeconds(10));

  @Test
  void theCeilingGrowsByTheMultiplierUpToTheCap() {
    assertThat(backoff.ceilingMs(0)).isEqualTo(250);
    assertThat(backoff.ceilingMs(1)).isEqualTo(500);
    assertThat(backoff.ceilingMs(5)).isEqualTo(8_000);
    assertThat(backoff.ceilingMs(6)).isEqualTo(10_000);
    assertThat(backoff.ceilingMs(10_000)).as("no overflow").isEqualTo(10_000);
  }

  @Test
  void theDelayIsFullJitterFromZeroToTheCeiling() {
    assertThat(backoff.delayMs(3, bound -> 0)).isZero();
    assertThat(backoff.delayMs(3, bound -> bound)).isEqualTo(2_000);
    for (int i = 0; i < 1_000; i++) {
      assertThat(backoff.delayMs(2)).isBetween(0L, 1_000L);
    }
  }

  @Test
  void aPolicyThatCannotBackOffIsRefusedWithItsValues() {
    assertThatThrownBy(() -> Backoff.doubling(Duration.ZERO, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT0S");
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(1), 0.5, Duration.ofSeconds(2)))
        .hasMessage("backoff multiplier must be at least 1, got 0.5");
  }
}
