package io.watchparty.server;

import com.nimbusds.jose.JWSAlgorithm;
import io.helidon.config.Config;
import io.watchparty.proto.Settings;
import io.watchparty.proto.SyncBands;
import io.watchparty.proto.SyncRules;
import io.watchparty.server.auth.AuthSettings;
import io.watchparty.server.chat.ChatSettings;
import io.watchparty.server.room.RoomConfig;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
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
 * @param advertise the host name or address that clients and the other instances of a fleet reach
 *     this instance at (a room's owner is named by it); empty: {@code host}, or this machine's name
 *     if {@code host} is a wildcard address
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
    ChatSettings chat,
    Optional<String> advertise) {

  /**
   * Where clients and other instances reach an instance of these settings listening on {@code
   * port}.
   */
  public String advertisedAddress(int port) {
    String advertised =
        advertise.orElseGet(
            () -> {
              try {
                return InetAddress.getByName(host).isAnyLocalAddress()
                    ? InetAddress.getLocalHost().getHostName()
                    : host;
              } catch (UnknownHostException e) {
                return host;
              }
            });
    return (advertised.contains(":") ? "[" + advertised + "]" : advertised) + ":" + port;
  }

  private static final Logger log = LoggerFactory.getLogger(ServerSettings.class);

  /** The key of {@link #grpcPort()}. */
  public static final String GRPC_PORT_KEY = "watchparty.grpc.port";

  private static final String SECRET_KEY = "watchparty.auth.secret";

  /** Reads and validates the configuration; a bad value fails with a sentence naming its key. */
  public static ServerSettings from(Config config) {
    Settings w = new Settings(key -> config.get(key).asString().asOptional());
    boolean demo = w.bool("watchparty.auth.demo", false);
    RoomConfig d = RoomConfig.DEFAULTS;
    ChatSettings c = ChatSettings.DEFAULTS;
    JWSAlgorithm algorithm = algorithm(w);
    return new ServerSettings(
        w.text("watchparty.grpc.host", "127.0.0.1"),
        w.port(GRPC_PORT_KEY, 50051, 0),
        w.port("watchparty.observe.port", 8081, -1),
        w.url("watchparty.server.links", URI.create("http://127.0.0.1:8080")),
        new AuthSettings(
            algorithm,
            secret(w, demo, algorithm),
            w.text("watchparty.auth.issuer", "watchparty"),
            demo,
            Duration.ofMinutes(w.integer("watchparty.auth.lifetime", 12 * 60, 1, 7 * 24 * 60))),
        RoomConfig.builder()
            .commandLead(millis(w, "watchparty.room.lead", d.commandLead()))
            .eventLogCapacity(
                w.integer("watchparty.room.eventlog", d.eventLogCapacity(), 1, 1_000_000))
            .outboxCapacity(w.integer("watchparty.room.outbox", d.outboxCapacity(), 2, 1_000_000))
            .reconnectGrace(millis(w, "watchparty.room.grace", d.reconnectGrace()))
            .presenceDetailLimit(
                w.integer("watchparty.room.presencedetail", d.presenceDetailLimit(), 0, 10_000))
            .presenceInterval(millis(w, "watchparty.room.presenceinterval", d.presenceInterval()))
            .bufferingTimeout(millis(w, "watchparty.room.bufferingtimeout", d.bufferingTimeout()))
            .commandsPerSecond(
                w.integer("watchparty.room.commandrate", (long) d.commandsPerSecond(), 1, 10_000))
            .commandBurst(w.integer("watchparty.room.commandburst", d.commandBurst(), 1, 10_000))
            .syncPolicy(syncPolicy(w))
            .build(),
        w.integer("watchparty.catalog.size", 10_000L, 1, 10_000_000),
        w.seconds("watchparty.catalog.refresh", Duration.ofSeconds(60), 1, 86_400),
        w.bool("watchparty.catalog.demo", false),
        new ChatSettings(
            w.seconds("watchparty.chat.ttl", c.ttl(), 1, ChatSettings.MAX_TTL.toSeconds()),
            w.integer("watchparty.chat.maxlength", c.maxLength(), 1, ChatSettings.MAX_LENGTH),
            w.integer("watchparty.chat.rate", (long) c.messagesPerSecond(), 1, 1_000),
            w.integer("watchparty.chat.burst", c.messageBurst(), 1, 1_000),
            w.integer("watchparty.chat.reactionrate", (long) c.reactionsPerSecond(), 1, 1_000),
            w.integer("watchparty.chat.reactionburst", c.reactionBurst(), 1, 1_000),
            millis(w, "watchparty.chat.reactionwindow", c.reactionWindow()),
            w.integer("watchparty.chat.recent", c.recentMessages(), 0, 1_000),
            c.bucket()),
        w.text("watchparty.grpc.advertise"));
  }

  private static SyncBands syncPolicy(Settings w) {
    SyncBands d = SyncBands.DEFAULTS;
    return SyncBands.named(
        SyncRules.Field::settingName,
        w.integer("watchparty.sync.ignore", d.ignoreBelowMs(), 0, 60_000),
        w.integer("watchparty.sync.seek", d.seekAboveMs(), 1, 600_000),
        w.integer("watchparty.sync.horizon", d.nudgeHorizonMs(), 1, 600_000),
        w.decimal("watchparty.sync.minnudge", d.minNudge(), 0, 0.5),
        w.decimal("watchparty.sync.maxnudge", d.maxNudge(), 0, 0.5),
        w.integer("watchparty.sync.settle", d.seekSettleMs(), 0, 60_000),
        w.integer("watchparty.sync.check", d.checkIntervalMs(), 1, 60_000),
        w.integer("watchparty.sync.samples", d.clockSamples(), 1, 64),
        w.integer("watchparty.sync.refresh", d.clockRefreshMs(), 1_000, 3_600_000));
  }

  private static Duration millis(Settings w, String key, Duration defaultValue) {
    return w.millis(key, defaultValue, 1, 86_400_000);
  }

  private static JWSAlgorithm algorithm(Settings w) {
    return w.parsed(
        "watchparty.auth.algorithm",
        JWSAlgorithm.HS256,
        "HS256, HS384 or HS512",
        text ->
            switch (text) {
              case "HS256" -> Optional.of(JWSAlgorithm.HS256);
              case "HS384" -> Optional.of(JWSAlgorithm.HS384);
              case "HS512" -> Optional.of(JWSAlgorithm.HS512);
              default -> Optional.empty();
            });
  }

  private static byte[] secret(Settings w, boolean demo, JWSAlgorithm algorithm) {
    int min = AuthSettings.minSecretBytes(algorithm);
    Optional<String> secret = w.text(SECRET_KEY);
    if (secret.isPresent()) {
      byte[] bytes = secret.get().getBytes(StandardCharsets.UTF_8);
      if (bytes.length < min) {
        // The secret itself is never echoed: its length is what is wrong.
        throw Settings.invalid(
            SECRET_KEY, bytes.length + " bytes", "at least " + min + " bytes for " + algorithm);
      }
      return bytes;
    }
    if (!demo) {
      throw new IllegalArgumentException(
          Settings.describe(SECRET_KEY)
              + " is not set: set it to the token signing secret (at least "
              + min
              + " bytes), or set WATCHPARTY_AUTH_DEMO=true for a local demo.");
    }
    // 64 random bytes encode to 88 characters: long enough for every algorithm, HS512 included.
    byte[] random = new byte[64];
    new SecureRandom().nextBytes(random);
    log.warn("No watchparty.auth.secret set: demo mode signs tokens with a random per-run secret");
    return Base64.getEncoder().encodeToString(random).getBytes(StandardCharsets.US_ASCII);
  }
}
