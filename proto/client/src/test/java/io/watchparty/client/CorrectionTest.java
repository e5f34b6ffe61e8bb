package io.watchparty.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.watchparty.proto.SyncBands;
import org.junit.jupiter.api.Test;

class CorrectionTest {
  // The server's defaults: ignore < 40 ms, seek > 1000 ms, horizon 2 s, nudge 0.11%..5%.
  private final SyncBands bands = SyncBands.DEFAULTS;

  @Test
  void leavesDriftUnderTheIgnoreBandAlone() {
    assertThat(Correction.forError(39.9, 1.0, bands)).isEqualTo(Correction.NONE);
    assertThat(Correction.forError(-39.9, 1.5, bands)).isEqualTo(Correction.NONE);
  }

  @Test
  void nudgesInProportionToTheErrorOverTheHorizon() {
    Correction ahead = Correction.forError(100, 1.0, bands);
    assertThat(ahead.kind()).isEqualTo(Correction.Kind.NUDGE);
    // 100 ms over a 2 s horizon: 5% is the cap, so 100/2000 = 0.05 exactly; slower when ahead.
    assertThat(ahead.rate()).isCloseTo(0.95, within(1e-12));
    assertThat(ahead.durationMs()).isCloseTo(100 / 0.05, within(1e-9));

    Correction behind = Correction.forError(-60, 1.0, bands);
    assertThat(behind.rate()).isCloseTo(1 + 60.0 / 2000, within(1e-12));
    assertThat(behind.durationMs()).isCloseTo(2000, within(1e-9));
  }

  @Test
  void nudgeAtTheEdgeOfTheIgnoreBandIsAtLeastTheMinimum() {
    SyncBands lowIgnore =
        new SyncBands(1, 1000, 2000, 0.0011, 0.05, 300, 250, 8, 30_000); // 1 ms / 2 s = 0.05%
    Correction small = Correction.forError(1, 1.0, lowIgnore);
    assertThat(small.rate()).isCloseTo(1 - 0.0011, within(1e-12));
    assertThat(small.durationMs()).isCloseTo(1 / 0.0011, within(1e-9));
  }

  @Test
  void nudgeIsClampedToTheMaximumAndScaledByTheRoomRate() {
    Correction big = Correction.forError(-900, 2.0, bands); // 900/2000 = 45%, capped at 5%
    assertThat(big.rate()).isCloseTo(2.0 * 1.05, within(1e-12));
    assertThat(big.durationMs()).isCloseTo(900 / (2.0 * 0.05), within(1e-9));
  }

  @Test
  void theBandEdgesBelongToTheNudge() {
    assertThat(Correction.forError(40, 1.0, bands).kind()).isEqualTo(Correction.Kind.NUDGE);
    assertThat(Correction.forError(1000, 1.0, bands).kind()).isEqualTo(Correction.Kind.NUDGE);
  }

  @Test
  void seeksAboveTheSeekBand() {
    assertThat(Correction.forError(1000.5, 1.0, bands)).isEqualTo(Correction.SEEK);
    assertThat(Correction.forError(-5000, 1.0, bands)).isEqualTo(Correction.SEEK);
  }
}
