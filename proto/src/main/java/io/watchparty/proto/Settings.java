package io.watchparty.proto;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Typed settings read from text by key: the one way the server, its storage and the web bridge read
 * their configuration, and the one sentence they refuse a value with, naming the key, the
 * environment variable that sets it, what was expected and the value:
 *
 * <pre>watchparty.grpc.port (env WATCHPARTY_GRPC_PORT) must be a port from 0 to 65535, not 'abc'.
 * </pre>
 *
 * <p>Keys are dotted and lower case, one word per segment, so that each maps to one environment
 * variable ({@code watchparty.grpc.port} is {@code WATCHPARTY_GRPC_PORT}). Where the text comes
 * from (a YAML file, system properties, the environment) is the lookup's business: it gives a key's
 * text, or nothing for a key that is not set. Text is stripped; blank text counts as not set.
 */
public final class Settings {
  private final Function<String, Optional<String>> lookup;

  /** Reads from {@code lookup}: a key's text, or empty when the key is not set. */
  public Settings(Function<String, Optional<String>> lookup) {
    this.lookup = Objects.requireNonNull(lookup, "lookup");
  }

  /** The key's text, stripped; empty when it is not set or blank. */
  public Optional<String> text(String key) {
    return lookup.apply(key).map(String::strip).filter(text -> !text.isEmpty());
  }

  public String text(String key, String defaultValue) {
    return text(key).orElse(defaultValue);
  }

  /** {@code true} or {@code false}, in any case. */
  public boolean bool(String key, boolean defaultValue) {
    return parsed(
        key,
        defaultValue,
        "true or false",
        text ->
            switch (text.toLowerCase(Locale.ROOT)) {
              case "true" -> Optional.of(true);
              case "false" -> Optional.of(false);
              default -> Optional.empty();
            });
  }

  /** A whole number from {@code min} to {@code max}. */
  public long integer(String key, long defaultValue, long min, long max) {
    return whole(key, defaultValue, min, max, "a whole number");
  }

  /** {@link #integer} for an {@code int}. */
  public int integer(String key, int defaultValue, int min, int max) {
    return Math.toIntExact(integer(key, (long) defaultValue, (long) min, (long) max));
  }

  /**
   * A port number from {@code min} to 65535; {@code min} 0 means "any free port" is allowed, -1
   * that the port may also be off.
   */
  public int port(String key, int defaultValue, int min) {
    String expected =
        switch (min) {
          case -1 -> "a port from 0 to 65535 (0 picks a free port, -1 turns it off)";
          case 0 -> "a port from 0 to 65535 (0 picks a free port)";
          default -> "a port from " + min + " to 65535";
        };
    return parsed(
        key,
        defaultValue,
        expected,
        text -> wholeNumber(text).filter(n -> n >= min && n <= 65535).map(Math::toIntExact));
  }

  /** A number of milliseconds from {@code min} to {@code max}. */
  public Duration millis(String key, Duration defaultValue, long min, long max) {
    return Duration.ofMillis(
        whole(key, defaultValue.toMillis(), min, max, "a number of milliseconds"));
  }

  /** A number of seconds from {@code min} to {@code max}. */
  public Duration seconds(String key, Duration defaultValue, long min, long max) {
    return Duration.ofSeconds(
        whole(key, defaultValue.toSeconds(), min, max, "a number of seconds"));
  }

  /** A decimal number above {@code above} and at most {@code atMost}. */
  public double decimal(String key, double defaultValue, double above, double atMost) {
    return parsed(
        key,
        defaultValue,
        "a number above " + plain(above) + " and at most " + plain(atMost),
        text -> {
          try {
            double n = Double.parseDouble(text);
            return n > above && n <= atMost ? Optional.of(n) : Optional.empty();
          } catch (NumberFormatException e) {
            return Optional.empty();
          }
        });
  }

  /** An absolute http or https URL. */
  public URI url(String key, URI defaultValue) {
    return parsed(
        key,
        defaultValue,
        "an absolute http(s) URL",
        text -> {
          try {
            URI uri = URI.create(text);
            boolean web =
                "http".equalsIgnoreCase(uri.getScheme())
                    || "https".equalsIgnoreCase(uri.getScheme());
            return web && uri.getHost() != null ? Optional.of(uri) : Optional.empty();
          } catch (IllegalArgumentException e) {
            return Optional.empty();
          }
        });
  }

  /**
   * A value {@code parser} makes of the key's text; {@code expected} says what it accepts, for the
   * refusal of text it does not (empty).
   */
  public <T> T parsed(
      String key, T defaultValue, String expected, Function<String, Optional<T>> parser) {
    Optional<String> text = text(key);
    if (text.isEmpty()) {
      return defaultValue;
    }
    return parser.apply(text.get()).orElseThrow(() -> invalid(key, text.get(), expected));
  }

  /**
   * The refusal of a setting: "{@code key} (env {@code KEY}) must be {@code expected}, not '{@code
   * value}'."
   */
  public static IllegalArgumentException invalid(String key, String value, String expected) {
    return new IllegalArgumentException(
        "%s must be %s, not '%s'.".formatted(describe(key), expected, value));
  }

  /** {@code key} and the environment variable that sets it: {@code a.b (env A_B)}. */
  public static String describe(String key) {
    return "%s (env %s)".formatted(key, environmentVariable(key));
  }

  /** The environment variable of a key: {@code watchparty.grpc.port} is WATCHPARTY_GRPC_PORT. */
  public static String environmentVariable(String key) {
    return key.toUpperCase(Locale.ROOT).replace('.', '_');
  }

  /** A whole number from {@code min} to {@code max}; {@code what} names it in a refusal. */
  private long whole(String key, long defaultValue, long min, long max, String what) {
    return parsed(
        key,
        defaultValue,
        what + " from " + min + " to " + max,
        text -> wholeNumber(text).filter(n -> n >= min && n <= max));
  }

  private static Optional<Long> wholeNumber(String text) {
    try {
      return Optional.of(Long.parseLong(text));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static String plain(double n) {
    return n == Math.rint(n) ? Long.toString((long) n) : Double.toString(n);
  }
}
