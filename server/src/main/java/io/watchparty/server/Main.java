package io.watchparty.server;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.watchparty.server.store.Storage;
import io.watchparty.server.store.StorageException;
import io.watchparty.server.store.StorageSettings;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Starts the WatchParty server: storage (the configured Cassandra cluster, or a local node it
 * starts itself), the gRPC server and the observability port. Stops all three, in reverse order, on
 * SIGTERM or Ctrl-C: room streams end at once with {@code SERVER_SHUTTING_DOWN}, and a local node
 * the server started stops after the server's writes are flushed.
 *
 * <p>Configuration: environment variables and system properties, over an optional YAML file named
 * by {@code WATCHPARTY_CONFIG}. Misconfiguration ends the process with one sentence and exit code
 * 2; storage that cannot be reached or started, with exit code 3.
 */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();

    Config config = loadConfig();
    ServerSettings settings;
    StorageSettings storageSettings;
    try {
      settings = ServerSettings.from(config);
      storageSettings = StorageSettings.from(config);
    } catch (IllegalArgumentException e) {
      System.err.println("watchparty-server: " + e.getMessage());
      System.exit(2);
      return;
    }

    Storage storage;
    try {
      storage = Storage.open(storageSettings);
    } catch (StorageException e) {
      System.err.println("watchparty-server: " + e.getMessage());
      System.exit(3);
      return;
    }

    WatchPartyServer server =
        WatchPartyServer.start(
            NettyServerBuilder.forAddress(
                new InetSocketAddress(settings.host(), settings.grpcPort())),
            storage.session(),
            settings,
            Clock.systemUTC());
    Optional<ObserveEndpoint> observe =
        settings.observePort() < 0
            ? Optional.empty()
            : Optional.of(
                ObserveEndpoint.start(
                    settings.host(),
                    settings.observePort(),
                    server.storageHealth(),
                    server.rooms().fanOutTimes()));

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  long start = System.nanoTime();
                  log.info("Shutting down");
                  // In this order: clients are told first and reconnect elsewhere, the rooms'
                  // writes are flushed while Cassandra is still there, and the local node (if this
                  // server started it) stops last. Its own shutdown hook waits for this.
                  observe.ifPresent(ObserveEndpoint::close);
                  server.close();
                  storage.close();
                  log.info(
                      "Stopped in {} s", String.format("%.1f", (System.nanoTime() - start) / 1e9));
                  stopped.countDown();
                },
                "shutdown"));

    log.info("gRPC server listening on {}:{}", settings.host(), server.port());
    observe.ifPresent(
        o ->
            log.info(
                "Health and metrics on http://{}:{}/observe/health, /observe/metrics and"
                    + " /observe/fan-out",
                settings.host(),
                o.port()));
    stopped.await();
  }

  private static Config loadConfig() {
    var builder =
        Config.builder().disableSystemPropertiesSource().disableEnvironmentVariablesSource();
    builder.addSource(ConfigSources.systemProperties());
    builder.addSource(ConfigSources.environmentVariables());
    Optional.ofNullable(System.getenv("WATCHPARTY_CONFIG"))
        .map(Path::of)
        .filter(Files::isRegularFile)
        .ifPresent(file -> builder.addSource(ConfigSources.file(file)));
    return builder.build();
  }
}
