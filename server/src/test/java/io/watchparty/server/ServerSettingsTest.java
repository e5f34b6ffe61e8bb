package io.watchparty.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.watchparty.proto.SyncBands;
import io.watchparty.server.chat.ChatSettings;
import io.watchparty.server.room.RoomConfig;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ServerSettingsTest {
  private static final String SECRET_32 = "0123456789abcdef0123456789abcdef";

  /** Settings from exactly these keys: no YAML file, no environment, no system properties. */
  private static ServerSettings load(Map<String, String> values) {
    return ServerSettings.from(Config.just(ConfigSources.create(values)));
  }

  /** Demo mode on (no secret needed) plus the given key and value. */
  private static ServerSettings demoWith(String key, String value) {
    Map<String, String> values = new HashMap<>();
    values.put("watchparty.auth.demo", "true");
    values.put(key, value);
    return load(values);
  }

  @Test
  void demoModeAloneGivesTheDocumentedDefaults() {
    ServerSettings s = load(Map.of("watchparty.auth.demo", "true"));

    assertThat(s.host()).isEqualTo("127.0.0.1");
    assertThat(s.grpcPort()).isEqualTo(50051);
    assertThat(s.observePort()).isEqualTo(8081);
    assertThat(s.links()).isEqualTo(URI.create("http://127.0.0.1:8080"));
    assertThat(s.auth().algorithm()).isEqualTo(JWSAlgorithm.HS256);
    assertThat(s.auth().issuer()).isEqualTo("watchparty");
    assertThat(s.auth().demo()).isTrue();
    assertThat(s.auth().demoTokenLifetime()).isEqualTo(Duration.ofHours(12));
    assertThat(s.auth().secret().length).isGreaterThanOrEqualTo(64);
    assertThat(s.rooms()).isEqualTo(RoomConfig.DEFAULTS);
    assertThat(s.catalogSize()).isEqualTo(10_000);
    assertThat(s.catalogRefresh()).isEqualTo(Duration.ofSeconds(60));
    assertThat(s.demoCatalog()).isFalse();
    assertThat(s.chat()).isEqualTo(ChatSettings.DEFAULTS);
  }

  @Test
  void demoModeSignsWithARandomSecretPerRun() {
    byte[] first = load(Map.of("watchparty.auth.demo", "true")).auth().secret();
    byte[] second = load(Map.of("watchparty.auth.demo", "true")).auth().secret();

    assertThat(first).isNotEqualTo(second);
  }

  @Test
  void blankValuesFallBackToDefaults() {
    ServerSettings s =
        load(
            Map.of(
                "watchparty.auth.demo", "true",
                "watchparty.grpc.port", "   ",
                "watchparty.grpc.host", ""));

    assertThat(s.grpcPort()).isEqualTo(50051);
    assertThat(s.host()).isEqualTo("127.0.0.1");
  }

  @Test
  void readsGrpcObserveLinksAndCatalogKeys() {
    Map<String, String> values = new HashMap<>();
    values.put("watchparty.auth.demo", "true");
    values.put("watchparty.grpc.host", " 0.0.0.0 ");
    values.put("watchparty.grpc.port", "0");
    values.put("watchparty.observe.port", "-1");
    values.put("watchparty.server.links", "https://watch.example.com/party");
    values.put("watchparty.catalog.size", "25");
    values.put("watchparty.catalog.refresh", "5");
    values.put("watchparty.catalog.demo", "TRUE");

    ServerSettings s = load(values);

    assertThat(s.host()).isEqualTo("0.0.0.0");
    assertThat(s.grpcPort()).isZero();
    assertThat(s.observePort()).isEqualTo(-1);
    assertThat(s.links()).isEqualTo(URI.create("https://watch.example.com/party"));
    assertThat(s.catalogSize()).isEqualTo(25);
    assertThat(s.catalogRefresh()).isEqualTo(Duration.ofSeconds(5));
    assertThat(s.demoCatalog()).isTrue();
  }

  @Test
  void anInstanceAdvertisesItsBindHostUnlessToldOtherwiseAndNeverAWildcard() throws Exception {
    assertThat(demoWith("watchparty.grpc.host", "127.0.0.2").advertisedAddress(50051))
        .isEqualTo("127.0.0.2:50051");
    assertThat(demoWith("watchparty.grpc.host", "0.0.0.0").advertisedAddress(50051))
        .isEqualTo(java.net.InetAddress.getLocalHost().getHostName() + ":50051");
    Map<String, String> values = new HashMap<>();
    values.put("watchparty.auth.demo", "true");
    values.put("watchparty.grpc.host", "0.0.0.0");
    values.put("watchparty.grpc.advertise", "party-3.internal");
    assertThat(load(values).advertisedAddress(50051)).isEqualTo("party-3.internal:50051");
    values.put("watchparty.grpc.advertise", "fd00::3");
    assertThat(load(values).advertisedAddress(50051)).isEqualTo("[fd00::3]:50051");
  }

  @Test
  void readsAuthKeys() {
    String secret = "s".repeat(48);
    ServerSettings s =
        load(
            Map.of(
                "watchparty.auth.algorithm", "HS384",
                "watchparty.auth.secret", secret,
                "watchparty.auth.issuer", "accounts.example.com",
                "watchparty.auth.demo", "false",
                "watchparty.auth.lifetime", "90"));

    assertThat(s.auth().algorithm()).isEqualTo(JWSAlgorithm.HS384);
    assertThat(s.auth().secret()).isEqualTo(secret.getBytes(StandardCharsets.UTF_8));
    assertThat(s.auth().issuer()).isEqualTo("accounts.example.com");
    assertThat(s.auth().demo()).isFalse();
    assertThat(s.auth().demoTokenLifetime()).isEqualTo(Duration.ofMinutes(90));
  }

  @Test
  void readsRoomKeys() {
    Map<String, String> values = new HashMap<>();
    values.put("watchparty.auth.demo", "true");
    values.put("watchparty.room.lead", "300");
    values.put("watchparty.room.eventlog", "64");
    values.put("watchparty.room.outbox", "2");
    values.put("watchparty.room.grace", "45000");
    values.put("watchparty.room.presencedetail", "0");
    values.put("watchparty.room.presenceinterval", "2500");
    values.put("watchparty.room.bufferingtimeout", "7000");
    values.put("watchparty.room.commandrate", "20");
    values.put("watchparty.room.commandburst", "40");

    RoomConfig r = load(values).rooms();

    assertThat(r)
        .isEqualTo(
            new RoomConfig(
                Duration.ofMillis(300),
                64,
                2,
                Duration.ofSeconds(45),
                0,
                Duration.ofMillis(2500),
                Duration.ofSeconds(7),
                20,
                40,
                SyncBands.DEFAULTS,
                RoomConfig.DEFAULTS.writeRetry(),
                RoomConfig.DEFAULTS.writeAttempts()));
  }

  @Test
  void readsTheSyncPolicySentToPlayers() {
    Map<String, String> values = new HashMap<>(Map.of("watchparty.auth.demo", "true"));
    values.put("watchparty.sync.ignore", "25");
    values.put("watchparty.sync.seek", "1500");
    values.put("watchparty.sync.horizon", "3000");
    values.put("watchparty.sync.minnudge", "0.002");
    values.put("watchparty.sync.maxnudge", "0.08");
    values.put("watchparty.sync.settle", "500");
    values.put("watchparty.sync.check", "200");
    values.put("watchparty.sync.samples", "12");
    values.put("watchparty.sync.refresh", "60000");

    assertThat(load(values).rooms().syncPolicy())
        .isEqualTo(new SyncBands(25, 1500, 3000, 0.002, 0.08, 500, 200, 12, 60_000));
  }

  @Test
  void refusesSyncBandsThatOverlapOrNudgesOutOfRange() {
    Map<String, String> values = new HashMap<>(Map.of("watchparty.auth.demo", "true"));
    values.put("watchparty.sync.ignore", "500");
    values.put("watchparty.sync.seek", "400");
    assertThatThrownBy(() -> load(values))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("watchparty.sync.seek");

    Map<String, String> rate = new HashMap<>(Map.of("watchparty.auth.demo", "true"));
    rate.put("watchparty.sync.maxnudge", "0.9");
    assertThatThrownBy(() -> load(rate))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("watchparty.sync.maxnudge");
  }

  @Test
  void readsChatKeysAndKeepsTheBucket() {
    Map<String, String> values = new HashMap<>();
    values.put("watchparty.auth.demo", "true");
    values.put("watchparty.chat.ttl", "3600");
    values.put("watchparty.chat.maxlength", "200");
    values.put("watchparty.chat.rate", "3");
    values.put("watchparty.chat.burst", "6");
    values.put("watchparty.chat.reactionrate", "8");
    values.put("watchparty.chat.reactionburst", "16");
    values.put("watchparty.chat.reactionwindow", "500");
    values.put("watchparty.chat.recent", "0");

    ChatSettings c = load(values).chat();

    assertThat(c)
        .isEqualTo(
            new ChatSettings(
                Duration.ofHours(1),
                200,
                3,
                6,
                8,
                16,
                Duration.ofMillis(500),
                0,
                ChatSettings.DEFAULTS.bucket()));
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "grpc.port|abc|WATCHPARTY_GRPC_PORT|a port from 0 to 65535 (0 picks a free port)",
        "grpc.port|70000|WATCHPARTY_GRPC_PORT|a port from 0 to 65535 (0 picks a free port)",
        "grpc.port|-1|WATCHPARTY_GRPC_PORT|a port from 0 to 65535 (0 picks a free port)",
        "observe.port|-2|WATCHPARTY_OBSERVE_PORT|a port from 0 to 65535 (0 picks a free port, -1"
            + " turns it off)",
        "room.lead|-5|WATCHPARTY_ROOM_LEAD|a number of milliseconds from 1 to 86400000",
        "room.lead|0|WATCHPARTY_ROOM_LEAD|a number of milliseconds from 1 to 86400000",
        "room.outbox|1|WATCHPARTY_ROOM_OUTBOX|a whole number from 2 to 1000000",
        "room.commandrate|1.5|WATCHPARTY_ROOM_COMMANDRATE|a whole number from 1 to 10000",
        "catalog.demo|yes|WATCHPARTY_CATALOG_DEMO|true or false",
        "auth.demo|yes|WATCHPARTY_AUTH_DEMO|true or false",
        "server.links|/watch|WATCHPARTY_SERVER_LINKS|an absolute http(s) URL",
        "server.links|watch.example.com|WATCHPARTY_SERVER_LINKS|an absolute http(s) URL",
        "server.links|http://|WATCHPARTY_SERVER_LINKS|an absolute http(s) URL",
        "server.links|ftp://files.example.com|WATCHPARTY_SERVER_LINKS|an absolute http(s) URL",
        "auth.algorithm|RS256|WATCHPARTY_AUTH_ALGORITHM|HS256, HS384 or HS512",
        "auth.algorithm|hs256|WATCHPARTY_AUTH_ALGORITHM|HS256, HS384 or HS512",
        "auth.lifetime|0|WATCHPARTY_AUTH_LIFETIME|a whole number from 1 to 10080",
        "chat.maxlength|501|WATCHPARTY_CHAT_MAXLENGTH|a whole number from 1 to 500",
        "chat.recent|-1|WATCHPARTY_CHAT_RECENT|a whole number from 0 to 1000",
      })
  void badValueNamesTheVariableTheKeyAndTheValue(
      String key, String value, String env, String expected) {
    assertThatThrownBy(() -> demoWith("watchparty." + key, value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "watchparty."
                + key
                + " (env "
                + env
                + ") must be "
                + expected
                + ", not '"
                + value
                + "'.");
  }

  @Test
  void shortSecretIsRefusedWithoutEchoingIt() {
    String secret = "too-short-secret";

    assertThatThrownBy(() -> load(Map.of("watchparty.auth.secret", secret)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "watchparty.auth.secret (env WATCHPARTY_AUTH_SECRET) must be at least 32 bytes for"
                + " HS256, not '16 bytes'.")
        .hasMessageNotContaining(secret);
  }

  @Test
  void secretLengthIsCountedInUtf8Bytes() {
    // 16 characters, 32 bytes in UTF-8.
    String secret = "é".repeat(16);

    ServerSettings s = load(Map.of("watchparty.auth.secret", secret));

    assertThat(s.auth().secret()).hasSize(32);
  }

  @Test
  void secretMustBeAsLongAsTheHashOfTheAlgorithm() {
    assertThatThrownBy(
            () ->
                load(
                    Map.of(
                        "watchparty.auth.algorithm",
                        "HS512",
                        "watchparty.auth.secret",
                        "x".repeat(63))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "watchparty.auth.secret (env WATCHPARTY_AUTH_SECRET) must be at least 64 bytes for"
                + " HS512, not '63 bytes'.");
    assertThat(
            load(Map.of(
                    "watchparty.auth.algorithm", "HS512", "watchparty.auth.secret", "x".repeat(64)))
                .auth()
                .secret())
        .hasSize(64);
  }

  @Test
  void demoSecretIsLongEnoughForHs512() {
    ServerSettings s =
        load(Map.of("watchparty.auth.demo", "true", "watchparty.auth.algorithm", "HS512"));

    assertThat(s.auth().secret().length).isGreaterThanOrEqualTo(64);
  }

  @Test
  void explicitSecretIsUsedEvenInDemoMode() {
    ServerSettings s =
        load(Map.of("watchparty.auth.demo", "true", "watchparty.auth.secret", SECRET_32));

    assertThat(s.auth().secret()).isEqualTo(SECRET_32.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void missingSecretOutsideDemoModeSaysWhatToSet() {
    assertThatThrownBy(() -> load(Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("watchparty.auth.secret (env WATCHPARTY_AUTH_SECRET) is not set")
        .hasMessageContaining("at least 32 bytes")
        .hasMessageContaining("WATCHPARTY_AUTH_DEMO=true");
    assertThatThrownBy(() -> load(Map.of("watchparty.auth.demo", "false")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("WATCHPARTY_AUTH_SECRET");
  }
}
