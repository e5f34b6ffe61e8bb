package io.watchparty.bridge;

import io.helidon.config.Config;
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
 *   <tr><td>{@value #UPSTREAM_KEY}</td><td>127.0.0.1:50051</td>
 *       <td>the WatchParty gRPC server, {@code host:port} ({@code [v6-address]:port} for IPv6)</td></tr>
 * </table>
 *
 * @param host the host name or IP address the HTTP server binds to
 * @param port the HTTP port, from 0 (any free port) to 65535
 * @param upstream the gRPC server the bridge relays
 */
public record BridgeSettings(String host, int port, Address upstream) {
  /** Config key of {@link #host()}. */
  public static final String HOST_KEY = "watchparty.bridge.host";

  /** Config key of {@link #port()}. */
  public static final String PORT_KEY = "watchparty.bridge.port";

  /** Config key of {@link #upstream()}. */
  public static final String UPSTREAM_KEY = "watchparty.bridge.upstream";

  static final String DEFAULT_HOST = "127.0.0.1";
  static final int DEFAULT_PORT = 8080;
  static final String DEFAULT_UPSTREAM = "127.0.0.1:50051";

  // A host name or IPv4 address; an IPv6 address, possibly with a zone (fe80::1%eth0).
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._\\-]+");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(%[\\w.\\-]+)?");

  /** Checks every value, so that a bad one fails at startup rather than at the first request. */
  public BridgeSettings {
    Objects.requireNonNull(upstream, "upstream");
    host = listenHost(host);
    if (port < 0 || port > 65535) {
      throw badPort(Integer.toString(port));
    }
  }

  /** The settings with every key at its default. */
  public static BridgeSettings defaults() {
    return new BridgeSettings(DEFAULT_HOST, DEFAULT_PORT, Address.parse(DEFAULT_UPSTREAM));
  }

  /**
   * Reads the settings from {@code config}, taking the default of each missing key.
   *
   * @throws IllegalArgumentException with a one-sentence message naming the key and the value, when
   *     a value is malformed
   */
  public static BridgeSettings from(Config config) {
    String host = value(config, HOST_KEY).orElse(DEFAULT_HOST);
    int port =
        value(config, PORT_KEY)
            .map(text -> parsePort(text, 0).orElseThrow(() -> badPort(text)))
            .orElse(DEFAULT_PORT);
    Address upstream =
        value(config, UPSTREAM_KEY).map(BridgeSettings::upstream).orElseGet(Address::defaults);
    return new BridgeSettings(host, port, upstream);
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
      throw new IllegalArgumentException(key + " must be a single value, but has sub-keys.");
    }
    return Optional.of(node.asString().get().strip());
  }

  private static String listenHost(String host) {
    Objects.requireNonNull(host, HOST_KEY);
    String bare = host.startsWith("[") && host.endsWith("]") ? Address.unbracket(host) : host;
    if (!NAME.matcher(bare).matches() && !IPV6.matcher(bare).matches()) {
      throw new IllegalArgumentException(
          HOST_KEY + " must be a host name or IP address, but was '" + host + "'.");
    }
    return bare;
  }

  private static Address upstream(String text) {
    return Address.tryParse(text)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    UPSTREAM_KEY
                        + " must be host:port with a port from 1 to 65535 ([address]:port for"
                        + " IPv6), but was '"
                        + text
                        + "'."));
  }

  private static IllegalArgumentException badPort(String text) {
    return new IllegalArgumentException(
        PORT_KEY
            + " must be a port from 0 to 65535 (0 picks a free port), but was '"
            + text
            + "'.");
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
