package io.watchparty.server.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.RefusedException;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Objects;
import java.util.Set;

/**
 * Verifies bearer tokens (JWT, HMAC) into {@link Identity identities}, and signs tokens for the
 * demo users. Claims: {@code sub} user id, {@code name}, {@code region}, {@code subscription}
 * ("active" or anything else), optional {@code admin} and {@code relay} booleans, {@code iss},
 * {@code exp}.
 */
public final class TokenService {
  private static final Duration CLOCK_SKEW = Duration.ofSeconds(30);
  private static final Set<String> REQUIRED_CLAIMS =
      Set.of("sub", "name", "region", "subscription", "exp", "iss");

  private final AuthSettings settings;
  private final MACVerifier verifier;
  private final MACSigner signer;
  private final Clock clock;

  public TokenService(AuthSettings settings, Clock clock) {
    this.settings = Objects.requireNonNull(settings);
    this.clock = Objects.requireNonNull(clock);
    try {
      this.verifier = new MACVerifier(settings.secret());
      this.signer = new MACSigner(settings.secret());
    } catch (JOSEException e) {
      throw new IllegalArgumentException("unusable watchparty.auth.secret: " + e.getMessage(), e);
    }
  }

  /** The identity in a token, or a refusal saying why the token is not acceptable. */
  public Identity verify(String token) {
    SignedJWT jwt;
    try {
      jwt = SignedJWT.parse(token);
    } catch (ParseException e) {
      throw new RefusedException(ErrorReason.TOKEN_INVALID, "the bearer token is not a JWT");
    }
    try {
      if (!jwt.getHeader().getAlgorithm().equals(settings.algorithm()) || !jwt.verify(verifier)) {
        throw new RefusedException(
            ErrorReason.TOKEN_INVALID, "the bearer token's signature is not valid");
      }
    } catch (JOSEException e) {
      throw new RefusedException(
          ErrorReason.TOKEN_INVALID, "the bearer token's signature is not valid");
    }
    JWTClaimsSet claims;
    try {
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw new RefusedException(
          ErrorReason.TOKEN_INVALID, "the bearer token's claims are malformed");
    }
    for (String claim : REQUIRED_CLAIMS) {
      if (claims.getClaim(claim) == null) {
        throw new RefusedException(
            ErrorReason.TOKEN_INVALID, "the bearer token lacks the '" + claim + "' claim");
      }
    }
    if (!settings.issuer().equals(claims.getIssuer())) {
      throw new RefusedException(
          ErrorReason.TOKEN_INVALID, "the bearer token has a foreign issuer");
    }
    if (claims.getExpirationTime().toInstant().plus(CLOCK_SKEW).isBefore(clock.instant())) {
      throw new RefusedException(ErrorReason.TOKEN_EXPIRED, "the bearer token has expired");
    }
    try {
      return new Identity(
          claims.getSubject(),
          claims.getStringClaim("name"),
          claims.getStringClaim("region"),
          "active".equals(claims.getStringClaim("subscription")),
          Boolean.TRUE.equals(claims.getBooleanClaim("admin")),
          Boolean.TRUE.equals(claims.getBooleanClaim("relay")));
    } catch (ParseException | IllegalArgumentException e) {
      throw new RefusedException(
          ErrorReason.TOKEN_INVALID, "the bearer token's claims are malformed: " + e.getMessage());
    }
  }

  /** Signs a token for an identity, valid for {@code lifetime}. */
  public String issue(Identity identity, Duration lifetime) {
    Instant now = clock.instant();
    JWTClaimsSet claims =
        new JWTClaimsSet.Builder()
            .subject(identity.userId())
            .issuer(settings.issuer())
            .issueTime(Date.from(now))
            .expirationTime(Date.from(now.plus(lifetime)))
            .claim("name", identity.displayName())
            .claim("region", identity.region())
            .claim("subscription", identity.subscribed() ? "active" : "inactive")
            .claim("admin", identity.admin())
            .claim("relay", identity.relay())
            .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader(settings.algorithm()), claims);
    try {
      jwt.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException("could not sign a token", e);
    }
    return jwt.serialize();
  }
}
