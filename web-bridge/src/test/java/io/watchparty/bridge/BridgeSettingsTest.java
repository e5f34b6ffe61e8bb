package io.watchparty.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BridgeSettingsTest {

  private static Config config(Map<String, String> values) {
    // Only the given values: the machine's environment must not leak into the test.
    return Config.just(ConfigSources.create(values));
  }

  @Test
  void missingKeysTakeTheirDefaults() {
    BridgeSettings settings = BridgeSettings.from(config(Map.of()));

    assertThat(settings).isEqualTo(BridgeSettings.defaults());
    assertThat(settings.host()).isEqualTo("127.0.0.1");
    assertThat(settings.port()).isEqualTo(8080);
    assertThat(settings.observePort()).isEqualTo(8082);
    assertThat(settings.upstream()).isEqualTo(new BridgeSettings.Address("127.0.0.1", 50051));
    assertThat(settings.testHook()).isFalse();
  }

  @Test
  void testHookIsOnOnlyWhenAskedFor() {
    assertThat(BridgeSettings.from(config(Map.of("watchparty.bridge.testhook", "true"))).testHook())
        .isTrue();
    assertThat(
            BridgeSettings.from(config(Map.of("watchparty.bridge.testhook", " TRUE "))).testHook())
        .isTrue();
    assertThat(
            BridgeSettings.from(config(Map.of("watchparty.bridge.testhook", "false"))).testHook())
        .isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"yes", "1", "on"})
  void rejectsATestHookThatIsNotTrueOrFalse(String value) {
    assertThatThrownBy(
            () -> BridgeSettings.from(config(Map.of("watchparty.bridge.testhook", value))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "watchparty.bridge.testhook (env WATCHPARTY_BRIDGE_TESTHOOK) must be true or false, not '"
                + value
                + "'.");
  }

  @Test
  void readsEveryKey() {
    BridgeSettings settings =
        BridgeSettings.from(
            config(
                Map.of(
                    "watchparty.bridge.host", "0.0.0.0",
                    "watchparty.bridge.port", "9090",
                    "watchparty.bridge.upstream", "grpc.internal:6000")));

    assertThat(settings)
        .isEqualTo(
            new BridgeSettings("0.0.0.0", 9090, new BridgeSettings.Address("grpc.internal", 6000)));
  }

  @Test
  void portZeroAsksForAnEphemeralPort() {
    assertThat(BridgeSettings.from(config(Map.of("watchparty.bridge.port", "0"))).port()).isZero();
  }

  @Test
  void ignoresSurroundingWhitespaceOfValues() {
    BridgeSettings settings =
        BridgeSettings.from(
            config(
                Map.of(
                    "watchparty.bridge.port", " 8081 ",
                    "watchparty.bridge.upstream", " localhost:50052\n")));

    assertThat(settings.port()).isEqualTo(8081);
    assertThat(settings.upstream()).isEqualTo(new BridgeSettings.Address("localhost", 50052));
  }

  @Test
  void acceptsBracketedIpv6Upstream() {
    BridgeSettings settings =
        BridgeSettings.from(config(Map.of("watchparty.bridge.upstream", "[::1]:50051")));

    assertThat(settings.upstream().host()).isEqualTo("::1");
    assertThat(settings.upstream()).hasToString("[::1]:50051");
  }

  @Test
  void acceptsIpv6ListenHostWithOrWithoutBrackets() {
    assertThat(BridgeSettings.from(config(Map.of("watchparty.bridge.host", "::1"))).host())
        .isEqualTo("::1");
    assertThat(BridgeSettings.from(config(Map.of("watchparty.bridge.host", "[::1]"))).host())
        .isEqualTo("::1");
    assertThat(new BridgeSettings("::1", 8080, BridgeSettings.Address.parse("[::1]:1")).baseUri(80))
        .isEqualTo("http://[::1]:80");
  }

  @ParameterizedTest
  @ValueSource(strings = {"-1", "0", "9100"})
  void observePortIsAPortZeroForAnyOrMinusOneForNone(String port) {
    assertThat(
            BridgeSettings.from(config(Map.of("watchparty.bridge.observeport", port)))
                .observePort())
        .isEqualTo(Integer.parseInt(port));
  }

  @ParameterizedTest
  @ValueSource(strings = {"-2", "65536", "off"})
  void rejectsBadObservePortNamingKeyAndValue(String port) {
    assertThatThrownBy(
            () -> BridgeSettings.from(config(Map.of("watchparty.bridge.observeport", port))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "watchparty.bridge.observeport (env WATCHPARTY_BRIDGE_OBSERVEPORT) must be a port")
        .hasMessageEndingWith(", not '" + port + "'.");
  }

  @ParameterizedTest
  @ValueSource(strings = {"abc", "-1", "65536", "80.5", "0x50", "123456"})
  void rejectsBadPortNamingKeyAndValue(String port) {
    assertThatThrownBy(() -> BridgeSettings.from(config(Map.of("watchparty.bridge.port", port))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "watchparty.bridge.port (env WATCHPARTY_BRIDGE_PORT) must be a port from 0 to 65535 (0"
                + " picks a free port), not '"
                + port
                + "'.");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "localhost",
        "localhost:",
        ":50051",
        "localhost:0",
        "localhost:65536",
        "localhost:abc",
        "local host:50051",
        "::1:50051",
        "[]:50051",
        "[not-ipv6]:50051",
        "http://localhost:50051"
      })
  void rejectsMalformedUpstreamNamingKeyAndValue(String upstream) {
    assertThatThrownBy(
            () -> BridgeSettings.from(config(Map.of("watchparty.bridge.upstream", upstream))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "watchparty.bridge.upstream (env WATCHPARTY_BRIDGE_UPSTREAM) must be host:port with a"
                + " port from 1 to 65535 ([address]:port for IPv6), not '"
                + upstream.strip()
                + "'.");
  }

  @ParameterizedTest
  @ValueSource(strings = {"my host", "http://localhost", "a/b"})
  void rejectsMalformedHostNamingKeyAndValue(String host) {
    assertThatThrownBy(() -> BridgeSettings.from(config(Map.of("watchparty.bridge.host", host))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "watchparty.bridge.host (env WATCHPARTY_BRIDGE_HOST) must be a host name or IP address,"
                + " not '"
                + host
                + "'.");
  }

  @Test
  void rejectsAKeyThatHasSubKeysInsteadOfAValue() {
    assertThatThrownBy(
            () -> BridgeSettings.from(config(Map.of("watchparty.bridge.port.http", "8080"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "watchparty.bridge.port (env WATCHPARTY_BRIDGE_PORT) must be a single value, but has"
                + " sub-keys.");
  }

  @Test
  void blankValuesFallBackToDefaults() {
    // As everywhere else (one reader for the server, storage and the bridge): a variable set to
    // nothing, as WATCHPARTY_BRIDGE_PORT= in a compose file, is a variable not set.
    BridgeSettings settings =
        BridgeSettings.from(
            config(
                Map.of(
                    "watchparty.bridge.host", "",
                    "watchparty.bridge.port", "  ",
                    "watchparty.bridge.testhook", "")));

    assertThat(settings.host()).isEqualTo(BridgeSettings.DEFAULT_HOST);
    assertThat(settings.port()).isEqualTo(BridgeSettings.DEFAULT_PORT);
    assertThat(settings.testHook()).isFalse();
  }

  @Test
  void constructorRejectsOutOfRangePort() {
    assertThatThrownBy(
            () -> new BridgeSettings("127.0.0.1", 70000, BridgeSettings.Address.parse("h:1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("watchparty.bridge.port")
        .hasMessageContaining("70000");
  }
}
