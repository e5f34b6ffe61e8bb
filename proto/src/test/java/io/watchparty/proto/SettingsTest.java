package io.watchparty.proto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SettingsTest {

  private static Settings of(Map<String, String> values) {
    return new Settings(key -> Optional.ofNullable(values.get(key)));
  }

  @Test
  void readsEachKindOfValueAndTakesTheDefaultOfAKeyNotSetOrBlank() {
    Settings settings =
        of(
            Map.of(
                "a.port", " 8080 ",
                "a.flag", "TRUE",
                "a.count", "7",
                "a.wait", "250",
                "a.share", "0.25",
                "a.url", "https://watch.example.com/p",
                "a.blank", "  "));

    assertThat(settings.port("a.port", 1, 0)).isEqualTo(8080);
    assertThat(settings.bool("a.flag", false)).isTrue();
    assertThat(settings.integer("a.count", 1, 1, 10)).isEqualTo(7);
    assertThat(settings.millis("a.wait", Duration.ZERO, 1, 1000)).hasMillis(250);
    assertThat(settings.decimal("a.share", 0.1, 0, 0.5)).isEqualTo(0.25);
    assertThat(settings.url("a.url", URI.create("http://x")))
        .isEqualTo(URI.create("https://watch.example.com/p"));
    assertThat(settings.text("a.blank")).isEmpty();
    assertThat(settings.integer("a.blank", 3, 1, 10)).isEqualTo(3);
    assertThat(settings.seconds("a.missing", Duration.ofSeconds(9), 1, 60)).hasSeconds(9);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "port|abc|a port from 0 to 65535 (0 picks a free port)",
        "port|65536|a port from 0 to 65535 (0 picks a free port)",
        "flag|yes|true or false",
        "count|11|a whole number from 1 to 10",
        "count|1.5|a whole number from 1 to 10",
        "share|0|a number above 0 and at most 0.5",
        "share|NaN|a number above 0 and at most 0.5",
        "url|/relative|an absolute http(s) URL",
        "url|ftp://host|an absolute http(s) URL",
      })
  void refusesAValueInOneSentenceNamingKeyVariableExpectationAndValue(
      String kind, String value, String expected) {
    Settings settings = of(Map.of("watchparty.test." + kind, value));
    String key = "watchparty.test." + kind;
    assertThatThrownBy(
            () -> {
              switch (kind) {
                case "port" -> settings.port(key, 1, 0);
                case "flag" -> settings.bool(key, false);
                case "count" -> settings.integer(key, 1, 1, 10);
                case "share" -> settings.decimal(key, 0.1, 0, 0.5);
                default -> settings.url(key, URI.create("http://x"));
              }
            })
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "%s (env WATCHPARTY_TEST_%s) must be %s, not '%s'."
                .formatted(key, kind.toUpperCase(), expected, value));
  }
}
