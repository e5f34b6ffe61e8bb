package io.watchparty.bridge;

import io.helidon.config.Config;
import io.watchparty.bridge.relay.RelaySettings;
import io.watchparty.proto.Settings;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The web bridge's settings, checked when they are made: where the bridge listens and where the
 * gRPC server it relays is.
 *
 * <p>{@link #from(Config)} reads them from Helidon config. Every key has single-word segments so
 * that an environment variable maps onto it with no alias ({@code WATCHPARTY_BRIDGE_PORT} is {@code
 * watchparty.bridge.port}):
 *
 * <table>
 *   <caption>Configuration keys</caption>
 *   <tr><th>key</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@value #HOST_KEY}</td><td>127.0.0.1</td>
 *       <td>interface the HTTP server binds to</td></tr>
 *   <tr><td>{@value #PORT_KEY}</td><td>8080</td>
 *       <td>HTTP port; 0 picks a free port</td></tr>
 *   <tr><td>{@value #OBSERVE_PORT_KEY}</td><td>8082</td>
 *       <td>port of {@code /observe/health} and {@code /observe/metrics}, on the same host; 0 picks
 *       a free port, -1 turns them off. Never the public port: metrics are for operators</td></tr>
 *   <tr><td>{@value #UPSTREAM_KEY}</td><td>127.0.0.1:50051</td>
 *       <td>the WatchParty gRPC server, {@code host:port} ({@code [v6-address]:port} for IPv6)</td></tr>
 *   <tr><td>{@value #TOKEN_KEY}</td><td>none</td>
 *       <td>the bridge's relay token (a JWT with the {@code relay} claim); without it the bridge
 *       asks a demo-mode server for the demo relay account's token</td></tr>
 *   <tr><td>{@value #MAX_STREAMS_KEY}</td><td>20000</td>
 *       <td>SSE streams this bridge holds at most; beyond, 503 with Retry-After</td></tr>
 *   <tr><td>{@value #USER_STREAMS_KEY}</td><td>16</td>
 *       <td>SSE streams one user holds at most (tabs, devices)</td></tr>
 *   <tr><td>{@value #HEARTBEAT_KEY}</td><td>15000</td>
 *       <td>ms of silence after which an idle SSE stream gets a keep-alive comment (at most; it
 *       comes after half to all of it)</td></tr>
 *   <tr><td>{@value #STALL_KEY}</td><td>30000</td>
 *       <td>ms a browser may accept nothing before its stream is closed</td></tr>
 *   <tr><td>{@value #SEND_BUFFER_KEY}</td><td>0</td>
 *       <td>bytes of kernel send buffer per connection; 0 leaves it to the system (which may grow
 *       it to megabytes per stalled browser)</td></tr>
 *   <tr><td>{@value #EVENT_BUFFER_KEY}</td><td>1024</td>
 *       <td>room events kept per room for {@code Last-Event-ID} resumes</td></tr>
 *   <tr><td>{@value #QUEUE_KEY}</td><td>256</td>
 *       <td>events queued per browser before it gets a snapshot instead</td></tr>
 *   <tr><td>{@value #LINGER_KEY}</td><td>10000</td>
 *       <td>ms a room's upstream stream stays open after its last browser left</td></tr>
 *   <tr><td>{@value #TEST_HOOK_KEY}</td><td>false</td>
 *       <td>{@code true} for browser tests only: the pages say so (a {@code <meta>}), and the room
 *       page then exposes its player, clock and stream state as {@code window.watchparty}</td></tr>
 * </table>
 *
 * @param host the host name or IP address the HTTP server binds to
 * @param port the HTTP port, from 0 (any free port) to 65535
 * @param observePort the port of health and metrics, from 0 (any free port) to 65535, or -1 for
 *     none
 * @param upstream the gRPC server the bridge relays
 * @param relayToken the bridge's relay token; empty to ask a demo-mode server for one
 * @param maxStreams SSE streams held at most
 * @param userStreams SSE streams per user at most
 * @param heartbeat the longest silence on an idle stream before a keep-alive comment
 * @param stallTimeout how long a browser may accept nothing
 * @param sendBuffer the kernel send buffer per connection in bytes, 0 for the system's choice
 * @param relay the relay's buffers and timers
 * @param testHook whether the pages expose their state to browser tests
 */
public record BridgeSettings(
    String host,
    int port,
    int observePort,
    Address upstream,
    Optional<String> relayToken,
    int maxStreams,
    int userStreams,
    Duration heartbeat,
    Duration stallTimeout,
    int sendBuffer,
    RelaySettings relay,
    boolean testHook) {
  /** Config key of {@link #host()}. */
  public static final String HOST_KEY = "watchparty.bridge.host";

  /** Config key of {@link #port()}. */
  public static final String PORT_KEY = "watchparty.bridge.port";

  /** Config key of {@link #observePort()}. */
  public static final String OBSERVE_PORT_KEY = "watchparty.bridge.observeport";

  /** Config key of {@link #upstream()}. */
  public static final String UPSTREAM_KEY = "watchparty.bridge.upstream";

  /** Config key of {@link #relayToken()}. */
  public static final String TOKEN_KEY = "watchparty.bridge.token";

  /** Config key of {@link #maxStreams()}. */
  public static final String MAX_STREAMS_KEY = "watchparty.bridge.maxstreams";

  /** Config key of {@link #userStreams()}. */
  public static final String USER_STREAMS_KEY = "watchparty.bridge.userstreams";

  /** Config key of {@link #heartbeat()}. */
  public static final String HEARTBEAT_KEY = "watchparty.bridge.heartbeat";

  /** Config key of {@link #stallTimeout()}. */
  public static final String STALL_KEY = "watchparty.bridge.stall";

  /** Config key of {@link #sendBuffer()}. */
  public static final String SEND_BUFFER_KEY = "watchparty.bridge.sendbuffer";

  /** Config key of {@link RelaySettings#eventBuffer()}. */
  public static final String EVENT_BUFFER_KEY = "watchparty.bridge.eventbuffer";

  /** Config key of {@link RelaySettings#viewerQueue()}. */
  public static final String QUEUE_KEY = "watchparty.bridge.queue";

  /** Config key of {@link RelaySettings#linger()}. */
  public static final String LINGER_KEY = "watchparty.bridge.linger";

  /** Config key of {@link #testHook()}. */
  public static final String TEST_HOOK_KEY = "watchparty.bridge.testhook";

  static final String DEFAULT_HOST = "127.0.0.1";
  static final int DEFAULT_PORT = 8080;
  static final int DEFAULT_OBSERVE_PORT = 8082;
  static final String DEFAULT_UPSTREAM = "127.0.0.1:50051";
  static final int DEFAULT_MAX_STREAMS = 20_000;
  static final int DEFAULT_USER_STREAMS = 16;
  static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(15);
  static final Duration DEFAULT_STALL = Duration.ofSeconds(30);

  private static final String UPSTREAM =
      "host:port with a port from 1 to 65535 ([address]:port for IPv6)";

  // A host name or IPv4 address; an IPv6 address, possibly with a zone (fe80::1%eth0).
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._\\-]+");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(%[\\w.\\-]+)?");

  /** Checks every value, so that a bad one fails at startup rather than at the first request. */
  public BridgeSettings {
    Objects.requireNonNull(upstream, "upstream");
    Objects.requireNonNull(relayToken, "relayToken");
    Objects.requireNonNull(relay, "relay");
    Objects.requireNonNull(heartbeat, "heartbeat");
    Objects.requireNonNull(stallTimeout, "stallTimeout");
    if (maxStreams < 1 || userStreams < 1) {
      throw new IllegalArgumentException(
          MAX_STREAMS_KEY + " and " + USER_STREAMS_KEY + " must be positive.");
    }
    if (sendBuffer < 0) {
      throw new IllegalArgumentException(SEND_BUFFER_KEY + " must not be negative.");
    }
    if (heartbeat.toMillis() < 1 || stallTimeout.toMillis() < 1) {
      throw new IllegalArgumentException(
          HEARTBEAT_KEY + " and " + STALL_KEY + " must be positive.");
    }
    host = listenHost(host);
    if (port < 0 || port > 65535) {
      throw badPort(Integer.toString(port));
    }
    if (observePort < -1 || observePort > 65535) {
      throw Settings.invalid(
          OBSERVE_PORT_KEY,
          Integer.toString(observePort),
          "a port from 0 to 65535 (0 picks a free port, -1 turns it off)");
    }
  }

  /** Where to listen and what to relay, every other key at its default. */
  public BridgeSettings(String host, int port, Address upstream) {
    this(
        host,
        port,
        DEFAULT_OBSERVE_PORT,
        upstream,
        Optional.empty(),
        DEFAULT_MAX_STREAMS,
        DEFAULT_USER_STREAMS,
        DEFAULT_HEARTBEAT,
        DEFAULT_STALL,
        0,
        RelaySettings.DEFAULTS,
        false);
  }

  /** The settings with every key at its default. */
  public static BridgeSettings defaults() {
    return new BridgeSettings(DEFAULT_HOST, DEFAULT_PORT, Address.parse(DEFAULT_UPSTREAM));
  }

  /** The same settings with another observability port (0 any free one, -1 none). */
  public BridgeSettings withObservePort(int observePort) {
    return new BridgeSettings(
        host,
        port,
        observePort,
        upstream,
        relayToken,
        maxStreams,
        userStreams,
        heartbeat,
        stallTimeout,
        sendBuffer,
        relay,
        testHook);
  }

  /** The same settings with a relay token. */
  public BridgeSettings withRelayToken(String token) {
    return new BridgeSettings(
        host,
        port,
        observePort,
        upstream,
        Optional.of(token),
        maxStreams,
        userStreams,
        heartbeat,
        stallTimeout,
        sendBuffer,
        relay,
        testHook);
  }

  /** The same settings with other stream limits and timers. */
  public BridgeSettings withStreams(
      int maxStreams, int userStreams, Duration heartbeat, Duration stallTimeout) {
    return new BridgeSettings(
        host,
        port,
        observePort,
        upstream,
        relayToken,
        maxStreams,
        userStreams,
        heartbeat,
        stallTimeout,
        sendBuffer,
        relay,
        testHook);
  }

  /** The same settings with another kernel send buffer per connection. */
  public BridgeSettings withSendBuffer(int bytes) {
    return new BridgeSettings(
        host,
        port,
        observePort,
        upstream,
        relayToken,
        maxStreams,
        userStreams,
        heartbeat,
        stallTimeout,
        bytes,
        relay,
        testHook);
  }

  /** The same settings with the pages' test hook on or off. */
  public BridgeSettings withTestHook(boolean on) {
    return new BridgeSettings(
        host,
        port,
        observePort,
        upstream,
        relayToken,
        maxStreams,
        userStreams,
        heartbeat,
        stallTimeout,
        sendBuffer,
        relay,
        on);
  }

  /** The same settings with other relay tunables. */
  public BridgeSettings withRelay(RelaySettings relay) {
    return new BridgeSettings(
        host,
        port,
        observePort,
        upstream,
        relayToken,
        maxStreams,
        userStreams,
        heartbeat,
        stallTimeout,
        sendBuffer,
        relay,
        testHook);
  }

  /**
   * Reads the settings from {@code config}, taking the default of each missing key.
   *
   * @throws IllegalArgumentException with a one-sentence message naming the key and the value, when
   *     a value is malformed
   */
  public static BridgeSettings from(Config config) {
    Settings settings = new Settings(key -> value(config, key));
    RelaySettings d = RelaySettings.DEFAULTS;
    return new BridgeSettings(
        settings.text(HOST_KEY, DEFAULT_HOST),
        settings.port(PORT_KEY, DEFAULT_PORT, 0),
        settings.port(OBSERVE_PORT_KEY, DEFAULT_OBSERVE_PORT, -1),
        settings.parsed(UPSTREAM_KEY, Address.defaults(), UPSTREAM, Address::tryParse),
        settings.text(TOKEN_KEY),
        settings.integer(MAX_STREAMS_KEY, DEFAULT_MAX_STREAMS, 1, 1_000_000),
        settings.integer(USER_STREAMS_KEY, DEFAULT_USER_STREAMS, 1, 1_000_000),
        settings.millis(HEARTBEAT_KEY, DEFAULT_HEARTBEAT, 100, 300_000),
        settings.millis(STALL_KEY, DEFAULT_STALL, 100, 3_600_000),
        settings.integer(SEND_BUFFER_KEY, 0, 0, 64 * 1024 * 1024),
        new RelaySettings(
            settings.integer(EVENT_BUFFER_KEY, d.eventBuffer(), 1, 1_000_000),
            settings.integer(QUEUE_KEY, d.viewerQueue(), 2, 1_000_000),
            settings.millis(LINGER_KEY, d.linger(), 0, 3_600_000),
            d.reconnectBase(),
            d.reconnectMax()),
        settings.bool(TEST_HOOK_KEY, false));
  }

  /** {@code http://host:port}, with the port the server actually bound when it was 0. */
  String baseUri(int boundPort) {
    return "http://" + Address.bracketed(host) + ":" + boundPort;
  }

  private static Optional<String> value(Config config, String key) {
    Config node = config.get(key);
    if (!node.exists()) {
      return Optional.empty();
    }
    if (!node.hasValue()) {
      // Say WATCHPARTY_BRIDGE_PORT_HTTP is set instead of WATCHPARTY_BRIDGE_PORT: fail rather than
      // silently take the default.
      throw new IllegalArgumentException(
          Settings.describe(key) + " must be a single value, but has sub-keys.");
    }
    return node.asString().asOptional();
  }

  private static String listenHost(String host) {
    Objects.requireNonNull(host, HOST_KEY);
    String bare = host.startsWith("[") && host.endsWith("]") ? Address.unbracket(host) : host;
    if (!NAME.matcher(bare).matches() && !IPV6.matcher(bare).matches()) {
      throw Settings.invalid(HOST_KEY, host, "a host name or IP address");
    }
    return bare;
  }

  private static IllegalArgumentException badPort(String text) {
    return Settings.invalid(PORT_KEY, text, "a port from 0 to 65535 (0 picks a free port)");
  }

  private static Optional<Integer> parsePort(String text, int min) {
    if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return Optional.empty();
    }
    int port = Integer.parseInt(text);
    return port >= min && port <= 65535 ? Optional.of(port) : Optional.empty();
  }

  /**
   * A network address to dial.
   *
   * @param host a host name, an IPv4 address, or an IPv6 address without brackets
   * @param port a port from 1 to 65535
   */
  public record Address(String host, int port) {
    /** Checks the parts, so that every address that exists can be dialled. */
    public Address {
      Objects.requireNonNull(host, "host");
      if (!NAME.matcher(host).matches() && !IPV6.matcher(host).matches()) {
        throw new IllegalArgumentException(
            "host must be a host name or IP address, but was '" + host + "'.");
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port must be from 1 to 65535, but was " + port + ".");
      }
    }

    /**
     * Parses {@code host:port}, or {@code [ipv6]:port}.
     *
     * @throws IllegalArgumentException naming the text, when it is not such an address
     */
    public static Address parse(String text) {
      return tryParse(text)
          .orElseThrow(
              () ->
                  new IllegalArgumentException(
                      "address must be host:port ([address]:port for IPv6), but was '"
                          + text
                          + "'."));
    }

    static Address defaults() {
      return parse(DEFAULT_UPSTREAM);
    }

    private static Optional<Address> tryParse(String text) {
      // The last colon splits host from port, so an IPv6 host must be bracketed, as in URLs.
      int colon = text.lastIndexOf(':');
      if (colon < 0) {
        return Optional.empty();
      }
      String host = text.substring(0, colon);
      boolean bracketed = host.startsWith("[") && host.endsWith("]");
      boolean valid =
          bracketed ? IPV6.matcher(unbracket(host)).matches() : NAME.matcher(host).matches();
      return valid
          ? parsePort(text.substring(colon + 1), 1)
              .map(port -> new Address(bracketed ? unbracket(host) : host, port))
          : Optional.empty();
    }

    /** {@code host:port}, with an IPv6 host in brackets: the form {@link #parse} reads. */
    @Override
    public String toString() {
      return bracketed(host) + ":" + port;
    }

    private static String unbracket(String host) {
      return host.substring(1, host.length() - 1);
    }

    private static String bracketed(String host) {
      return host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    }
  }
}
