package io.watchparty.bridge;

import io.helidon.config.Config;
import io.helidon.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Starts the WatchParty web bridge: reads {@link BridgeSettings} from environment variables, system
 * properties and an optional {@code application.yaml} (working directory or class path), serves
 * until the process is told to stop (SIGTERM, Ctrl-C), then stops gracefully.
 */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  /** The name the bridge gives itself in its root document. */
  static final String SERVICE = "watchparty-web-bridge";

  private Main() {}

  /**
   * Runs the bridge.
   *
   * @param args none are read; configuration comes from the environment (see {@link
   *     BridgeSettings})
   */
  public static void main(String[] args) {
    // Helidon and gRPC log through java.util.logging; send it all to SLF4J/logback.
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();

    BridgeSettings settings;
    try {
      settings = BridgeSettings.from(Config.create());
    } catch (IllegalArgumentException | ConfigException e) {
      // A bad value, or an application.yaml that does not parse.
      System.err.println("watchparty-web-bridge: " + e.getMessage());
      System.exit(2);
      return;
    }

    WebBridge bridge;
    try {
      bridge = WebBridge.start(settings);
    } catch (IllegalStateException e) {
      log.error(e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(bridge::close, "web-bridge-shutdown"));
    System.out.println("WatchParty web bridge listening on " + bridge.uri());
  }
}
