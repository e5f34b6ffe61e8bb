package io.watchparty.server.auth;

import com.nimbusds.jose.JWSAlgorithm;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;

/**
 * How tokens are verified (and, for demo users, issued).
 *
 * @param algorithm one of HS256, HS384, HS512
 * @param secret the shared HMAC key; at least {@link #minSecretBytes as long as the hash} (32 bytes
 *     for HS256, 48 for HS384, 64 for HS512)
 * @param issuer the required {@code iss} claim
 * @param demo whether the demo-token service is enabled (never in production)
 * @param demoTokenLifetime how long an issued demo token is valid
 */
public record AuthSettings(
    JWSAlgorithm algorithm,
    byte[] secret,
    String issuer,
    boolean demo,
    Duration demoTokenLifetime) {

  static final Set<JWSAlgorithm> SUPPORTED =
      Set.of(JWSAlgorithm.HS256, JWSAlgorithm.HS384, JWSAlgorithm.HS512);

  public AuthSettings {
    if (!SUPPORTED.contains(algorithm)) {
      throw new IllegalArgumentException(
          "watchparty.auth.algorithm must be HS256, HS384 or HS512, got: " + algorithm);
    }
    if (secret.length < minSecretBytes(algorithm)) {
      throw new IllegalArgumentException(
          "watchparty.auth.secret must be at least "
              + minSecretBytes(algorithm)
              + " bytes for "
              + algorithm
              + ", got "
              + secret.length);
    }
    if (issuer.isBlank()) {
      throw new IllegalArgumentException("watchparty.auth.issuer must not be blank");
    }
    if (demoTokenLifetime.isNegative() || demoTokenLifetime.isZero()) {
      throw new IllegalArgumentException("demo token lifetime must be positive");
    }
    secret = secret.clone();
  }

  /**
   * The shortest secret an algorithm signs and verifies with (RFC 7518 3.2: as long as its hash);
   * the JOSE library refuses every token made with a shorter one.
   */
  public static int minSecretBytes(JWSAlgorithm algorithm) {
    if (JWSAlgorithm.HS512.equals(algorithm)) {
      return 64;
    }
    return JWSAlgorithm.HS384.equals(algorithm) ? 48 : 32;
  }

  /** For tests and the demo: HS256 with the given secret. */
  public static AuthSettings hs256(String secret, boolean demo) {
    return new AuthSettings(
        JWSAlgorithm.HS256,
        secret.getBytes(StandardCharsets.UTF_8),
        "watchparty",
        demo,
        Duration.ofHours(12));
  }

  @Override
  public byte[] secret() {
    return secret.clone();
  }
}
