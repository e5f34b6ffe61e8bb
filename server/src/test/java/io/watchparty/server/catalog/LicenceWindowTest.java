package io.watchparty.server.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LicenceWindowTest {
  private static final Instant FROM = Instant.parse("2030-03-01T00:00:00Z");
  private static final Instant UNTIL = Instant.parse("2030-06-01T00:00:00Z");
  private static final LicenceWindow SPRING =
      new LicenceWindow(Optional.of(FROM), Optional.of(UNTIL));

  @Test
  void containsFromInclusiveUntilExclusive() {
    assertThat(SPRING.contains(FROM.minusNanos(1))).isFalse();
    assertThat(SPRING.contains(FROM)).isTrue();
    assertThat(SPRING.contains(UNTIL.minusNanos(1))).isTrue();
    assertThat(SPRING.contains(UNTIL)).isFalse();
    assertThat(SPRING.contains(UNTIL.plusSeconds(1))).isFalse();
  }

  @Test
  void openStartIsAvailableFromTheBeginningOfTime() {
    LicenceWindow untilJune = new LicenceWindow(Optional.empty(), Optional.of(UNTIL));

    assertThat(untilJune.contains(Instant.EPOCH)).isTrue();
    assertThat(untilJune.contains(Instant.MIN)).isTrue();
    assertThat(untilJune.contains(UNTIL.minusNanos(1))).isTrue();
    assertThat(untilJune.contains(UNTIL)).isFalse();
  }

  @Test
  void openEndIsAvailableForever() {
    LicenceWindow fromMarch = new LicenceWindow(Optional.of(FROM), Optional.empty());

    assertThat(fromMarch.contains(FROM.minusNanos(1))).isFalse();
    assertThat(fromMarch.contains(FROM)).isTrue();
    assertThat(fromMarch.contains(Instant.MAX)).isTrue();
  }

  @Test
  void alwaysContainsEveryInstantAndHasNoBoundary() {
    assertThat(LicenceWindow.ALWAYS.contains(Instant.MIN)).isTrue();
    assertThat(LicenceWindow.ALWAYS.contains(Instant.MAX)).isTrue();
    assertThat(LicenceWindow.ALWAYS.nextBoundaryAfter(Instant.EPOCH)).isEmpty();
  }

  @Test
  void windowMustEndAfterItStarts() {
    assertThatThrownBy(() -> new LicenceWindow(Optional.of(FROM), Optional.of(FROM)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a licence window must end after it starts: " + FROM + " .. " + FROM);
    assertThatThrownBy(() -> new LicenceWindow(Optional.of(UNTIL), Optional.of(FROM)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must end after it starts");
    assertThat(new LicenceWindow(Optional.of(FROM), Optional.of(FROM.plusNanos(1))).contains(FROM))
        .isTrue();
  }

  @Test
  void nextBoundaryIsTheNearestBoundaryStrictlyAfter() {
    assertThat(SPRING.nextBoundaryAfter(FROM.minusSeconds(1))).contains(FROM);
    assertThat(SPRING.nextBoundaryAfter(FROM)).contains(UNTIL);
    assertThat(SPRING.nextBoundaryAfter(UNTIL.minusSeconds(1))).contains(UNTIL);
    assertThat(SPRING.nextBoundaryAfter(UNTIL)).isEmpty();
    assertThat(new LicenceWindow(Optional.empty(), Optional.of(UNTIL)).nextBoundaryAfter(FROM))
        .contains(UNTIL);
    assertThat(new LicenceWindow(Optional.of(FROM), Optional.empty()).nextBoundaryAfter(FROM))
        .isEmpty();
  }

  @Test
  void titleCanBeWatchedOnlyWhereAndWhenItsRegionHasAWindow() {
    TitleAvailability title =
        new TitleAvailability("film", Map.of("FR", SPRING, "US", LicenceWindow.ALWAYS));

    assertThat(title.canWatch("FR", FROM)).isTrue();
    assertThat(title.canWatch("FR", UNTIL)).isFalse();
    assertThat(title.canWatch("US", UNTIL)).isTrue();
    assertThat(title.canWatch("GB", FROM)).isFalse();
    assertThat(title.window("GB")).isEmpty();
    assertThat(title.window("FR")).contains(SPRING);
  }

  @Test
  void titleWithoutWindowsCannotBeWatchedAnywhere() {
    TitleAvailability title = new TitleAvailability("film", Map.of());

    assertThat(title.canWatch("FR", FROM)).isFalse();
    assertThat(title.nextChangeAfter(FROM)).isEmpty();
  }

  @Test
  void nextChangeIsTheNearestBoundaryAcrossRegions() {
    Instant julyFirst = Instant.parse("2030-07-01T00:00:00Z");
    Instant aprilFirst = Instant.parse("2030-04-01T00:00:00Z");
    TitleAvailability title =
        new TitleAvailability(
            "film",
            Map.of(
                "FR",
                SPRING,
                "DE",
                new LicenceWindow(Optional.of(aprilFirst), Optional.of(julyFirst)),
                "US",
                LicenceWindow.ALWAYS));

    assertThat(title.nextChangeAfter(Instant.parse("2030-01-01T00:00:00Z"))).contains(FROM);
    assertThat(title.nextChangeAfter(FROM)).contains(aprilFirst);
    assertThat(title.nextChangeAfter(aprilFirst)).contains(UNTIL);
    assertThat(title.nextChangeAfter(UNTIL)).contains(julyFirst);
    assertThat(title.nextChangeAfter(julyFirst)).isEmpty();
  }

  @Test
  void availabilityIsACopyOfTheGivenWindows() {
    Map<String, LicenceWindow> windows = new HashMap<>();
    windows.put("FR", SPRING);
    TitleAvailability title = new TitleAvailability("film", windows);

    windows.put("GB", LicenceWindow.ALWAYS);

    assertThat(title.windows()).containsOnlyKeys("FR");
    assertThat(title.canWatch("GB", FROM)).isFalse();
  }
}
