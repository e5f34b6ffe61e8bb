package io.watchparty.server;

import com.nimbusds.jose.JWSAlgorithm;
import io.helidon.config.Config;
import io.watchparty.server.auth.AuthSettings;
import io.watchparty.server.chat.ChatSettings;
import io.watchparty.server.room.RoomConfig;
import io.watchparty.server.room.SyncPolicy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's configuration (storage settings are read by {@code store.StorageSettings}). Every
 * key can be set in the YAML file, as a system property, or as an environment variable: key {@code
 * watchparty.grpc.port} is variable {@code WATCHPARTY_GRPC_PORT}. The README lists every key with
 * its default.
 *
 * @param host the address the gRPC server and the observability port bind to
 * @param grpcPort gRPC port (0 = any free port)
 * @param observePort HTTP port of health and Prometheus metrics (0 = any free port; -1 = off)
 * @param links base URL of the web page that share links point to
 * @param auth token verification
 * @param rooms room tunables
 * @param catalogSize maximum titles held in the catalog cache
 * @param catalogRefresh how soon a cached title is reloaded in the background
 * @param demoCatalog load the demo catalog at start
 * @param chat chat limits, retention and reactions
 */
public record ServerSettings(
    String host,
    int grpcPort,
    int observePort,
    URI links,
    AuthSettings auth,
    RoomConfig rooms,
    long catalogSize,
    Duration catalogRefresh,
    boolean demoCatalog,
    ChatSettings chat) {

  private static final Logger log = LoggerFactory.getLogger(ServerSettings.class);

  /** Reads and validates the configuration; a bad value fails with a sentence naming its key. */
  public static ServerSettings from(Config config) {
    Config w = config.get("watchparty");
    boolean demo = bool(w, "auth.demo", false);
    RoomConfig d = RoomConfig.DEFAULTS;
    ChatSettings c = ChatSettings.DEFAULTS;
    JWSAlgorithm algorithm = algorithm(w, "auth.algorithm");
    return new ServerSettings(
        string(w, "grpc.host", "127.0.0.1"),
        port(w, "grpc.port", 50051, false),
        port(w, "observe.port", 8081, true),
        uri(w, "server.links", "http://127.0.0.1:8080"),
        new AuthSettings(
            algorithm,
            secret(w, demo, algorithm),
            string(w, "auth.issuer", "watchparty"),
            demo,
            Duration.ofMinutes(integer(w, "auth.lifetime", 12 * 60, 1, 7 * 24 * 60))),
        RoomConfig.builder()
            .commandLead(millis(w, "room.lead", d.commandLead()))
            .eventLogCapacity((int) integer(w, "room.eventlog", d.eventLogCapacity(), 1, 1_000_000))
            .outboxCapacity((int) integer(w, "room.outbox", d.outboxCapacity(), 2, 1_000_000))
            .reconnectGrace(millis(w, "room.grace", d.reconnectGrace()))
            .presenceDetailLimit(
                (int) integer(w, "room.presencedetail", d.presenceDetailLimit(), 0, 10_000))
            .presenceInterval(millis(w, "room.presenceinterval", d.presenceInterval()))
            .bufferingTimeout(millis(w, "room.bufferingtimeout", d.bufferingTimeout()))
            .commandsPerSecond(
                integer(w, "room.commandrate", (long) d.commandsPerSecond(), 1, 10_000))
            .commandBurst((int) integer(w, "room.commandburst", d.commandBurst(), 1, 10_000))
            .syncPolicy(syncPolicy(w))
            .build(),
        integer(w, "catalog.size", 10_000, 1, 10_000_000),
        Duration.ofSeconds(integer(w, "catalog.refresh", 60, 1, 86_400)),
        bool(w, "catalog.demo", false),
        new ChatSettings(
            Duration.ofSeconds(
                integer(w, "chat.ttl", c.ttl().toSeconds(), 1, ChatSettings.MAX_TTL.toSeconds())),
            (int) integer(w, "chat.maxlength", c.maxLength(), 1, ChatSettings.MAX_LENGTH),
            integer(w, "chat.rate", (long) c.messagesPerSecond(), 1, 1_000),
            (int) integer(w, "chat.burst", c.messageBurst(), 1, 1_000),
            integer(w, "chat.reactionrate", (long) c.reactionsPerSecond(), 1, 1_000),
            (int) integer(w, "chat.reactionburst", c.reactionBurst(), 1, 1_000),
            millis(w, "chat.reactionwindow", c.reactionWindow()),
            (int) integer(w, "chat.recent", c.recentMessages(), 0, 1_000),
            c.bucket()));
  }

  private static SyncPolicy syncPolicy(Config w) {
    SyncPolicy d = SyncPolicy.DEFAULTS;
    return new SyncPolicy(
        integer(w, "sync.ignore", d.ignoreBelowMs(), 0, 60_000),
        integer(w, "sync.seek", d.seekAboveMs(), 1, 600_000),
        integer(w, "sync.horizon", d.nudgeHorizonMs(), 1, 600_000),
        fraction(w, "sync.minnudge", d.minNudge()),
        fraction(w, "sync.maxnudge", d.maxNudge()),
        integer(w, "sync.settle", d.seekSettleMs(), 0, 60_000),
        integer(w, "sync.check", d.checkIntervalMs(), 1, 60_000),
        (int) integer(w, "sync.samples", d.clockSamples(), 1, 64),
        integer(w, "sync.refresh", d.clockRefreshMs(), 1_000, 3_600_000));
  }

  private static double fraction(Config w, String key, double defaultValue) {
    Optional<String> value = text(w, key);
    if (value.isEmpty()) {
      return defaultValue;
    }
    try {
      double n = Double.parseDouble(value.get());
      if (n > 0 && n <= 0.5) {
        return n;
      }
    } catch (NumberFormatException e) {
      // fall through to the refusal
    }
    throw bad(key, value.get(), "a fraction above 0 and at most 0.5");
  }

  private static Optional<String> text(Config w, String key) {
    return w.get(key).asString().asOptional().map(String::strip).filter(s -> !s.isEmpty());
  }

  private static String string(Config w, String key, String defaultValue) {
    return text(w, key).orElse(defaultValue);
  }

  private static boolean bool(Config w, String key, boolean defaultValue) {
    return text(w, key)
        .map(
            v ->
                switch (v.toLowerCase()) {
                  case "true" -> true;
                  case "false" -> false;
                  default -> throw bad(key, v, "true or false");
                })
        .orElse(defaultValue);
  }

  private static long integer(Config w, String key, long defaultValue, long min, long max) {
    Optional<String> value = text(w, key);
    if (value.isEmpty()) {
      return defaultValue;
    }
    try {
      long n = Long.parseLong(value.get());
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw bad(key, value.get(), "a whole number from " + min + " to " + max);
  }

  private static int port(Config w, String key, int defaultValue, boolean mayBeOff) {
    return (int) integer(w, key, defaultValue, mayBeOff ? -1 : 0, 65535);
  }

  private static Duration millis(Config w, String key, Duration defaultValue) {
    return Duration.ofMillis(integer(w, key, defaultValue.toMillis(), 1, 86_400_000));
  }

  private static URI uri(Config w, String key, String defaultValue) {
    String value = string(w, key, defaultValue);
    try {
      URI uri = URI.create(value);
      if (uri.getHost() != null
          && ("http".equalsIgnoreCase(uri.getScheme())
              || "https".equalsIgnoreCase(uri.getScheme()))) {
        return uri;
      }
    } catch (IllegalArgumentException e) {
      // reported below
    }
    throw bad(key, value, "an absolute http(s) URL");
  }

  private static JWSAlgorithm algorithm(Config w, String key) {
    String value = string(w, key, "HS256");
    return switch (value) {
      case "HS256" -> JWSAlgorithm.HS256;
      case "HS384" -> JWSAlgorithm.HS384;
      case "HS512" -> JWSAlgorithm.HS512;
      default -> throw bad(key, value, "HS256, HS384 or HS512");
    };
  }

  private static byte[] secret(Config w, boolean demo, JWSAlgorithm algorithm) {
    int min = AuthSettings.minSecretBytes(algorithm);
    Optional<String> secret = text(w, "auth.secret");
    if (secret.isPresent()) {
      byte[] bytes = secret.get().getBytes(StandardCharsets.UTF_8);
      if (bytes.length < min) {
        throw bad(
            "auth.secret",
            "(" + bytes.length + " bytes)",
            "at least " + min + " bytes for " + algorithm);
      }
      return bytes;
    }
    if (!demo) {
      throw new IllegalArgumentException(
          "WATCHPARTY_AUTH_SECRET (watchparty.auth.secret) is not set: set it to the token signing"
              + " secret (at least "
              + min
              + " bytes), or set WATCHPARTY_AUTH_DEMO=true for a local demo.");
    }
    // 64 random bytes encode to 88 characters: long enough for every algorithm, HS512 included.
    byte[] random = new byte[64];
    new SecureRandom().nextBytes(random);
    log.warn("No watchparty.auth.secret set: demo mode signs tokens with a random per-run secret");
    return Base64.getEncoder().encodeToString(random).getBytes(StandardCharsets.US_ASCII);
  }

  private static IllegalArgumentException bad(String key, String value, String expected) {
    String env = ("WATCHPARTY_" + key).toUpperCase().replace('.', '_');
    return new IllegalArgumentException(
        env + " (watchparty." + key + ") must be " + expected + ", got: " + value);
  }
}
