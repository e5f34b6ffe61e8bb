package io.watchparty.loadtest;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.Metadata;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

/**
 * Tokens for synthetic users (subscribed, region US), signed with the server's HS256 secret, as the
 * server's own token issuer signs them; and the {@code authorization} header that carries one.
 */
final class Tokens {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final MACSigner signer;

  Tokens(String secret) {
    try {
      this.signer = new MACSigner(secret.getBytes(StandardCharsets.UTF_8));
    } catch (JOSEException e) {
      throw new IllegalArgumentException("--secret is not a usable HMAC key: " + e.getMessage(), e);
    }
  }

  /** Headers authenticating {@code user} for one call. */
  Metadata headers(String user) {
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, "Bearer " + token(user));
    return headers;
  }

  String token(String user) {
    var claims =
        new JWTClaimsSet.Builder()
            .subject(user)
            .issuer("watchparty")
            .expirationTime(Date.from(Instant.now().plus(Duration.ofHours(1))))
            .claim("name", user)
            .claim("region", "US")
            .claim("subscription", "active")
            .build();
    var jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    try {
      jwt.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException("could not sign a token for " + user, e);
    }
    return jwt.serialize();
  }
}
