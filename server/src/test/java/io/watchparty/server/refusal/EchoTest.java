package io.watchparty.server.refusal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EchoTest {
  @Test
  void aShortValueIsQuotedWhole() {
    assertThat(Echo.quoted("sintel")).isEqualTo("'sintel'");
    assertThat(Echo.quoted("x".repeat(64))).isEqualTo("'" + "x".repeat(64) + "'");
  }

  @Test
  void aLongValueIsQuotedByItsStartAndLength() {
    assertThat(Echo.quoted("y".repeat(65_536)))
        .isEqualTo("'" + "y".repeat(64) + "…' (65536 characters)");
  }

  @Test
  void aBoundedValueNeverEndsInHalfASurrogatePair() {
    String popcorn = "🍿"; // two chars in UTF-16
    String value = "a".repeat(8) + popcorn.repeat(10);

    assertThat(Echo.bounded(value, 10)).isEqualTo("a".repeat(8) + "…");
    assertThat(Echo.bounded(value, 11)).isEqualTo("a".repeat(8) + popcorn + "…");
    assertThat(Echo.bounded("short", 10)).isEqualTo("short");
  }
}
