package io.watchparty.server.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
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
 * {@code exp}, optional {@code nbf}. Both times are checked with the same clock skew: a token is
 * accepted from {@code nbf} minus the skew until {@code exp} plus the skew.
 *
 * <p>Every call carries its caller's token, and a client sends the same token on all its calls, so
 * tokens that verified are remembered by their text (bounded, and each only until it expires): a
 * token seen again is answered without parsing it or checking its signature again. Only a token
 * that passed every check is remembered; one that fails is checked in full each time.
 */
public final class TokenService {
  private static final Duration CLOCK_SKEW = Duration.ofSeconds(30);
  private static final Set<String> REQUIRED_CLAIMS =
      Set.of("sub", "name", "region", "subscription", "exp", "iss");

  /** Tokens remembered at most: about a few MB of token text. */
  static final int REMEMBERED_TOKENS = 10_000;

  private final AuthSettings settings;
  private final MACVerifier verifier;
  private final MACSigner signer;
  private final Clock clock;

  /** Tokens that verified, by their text; an entry is used only while its token is acceptable. */
  private final Cache<String, Verified> verified;

  /** A verified token: who it names, and the last instant it is accepted (expiry plus skew). */
  private record Verified(Identity identity, Instant acceptedUntil) {}

  public TokenService(AuthSettings settings, Clock clock) {
    this.settings = Objects.requireNonNull(settings);
    this.clock = Objects.requireNonNull(clock);
    this.verified =
        Caffeine.newBuilder()
            .maximumSize(REMEMBERED_TOKENS)
            // Housekeeping only: verify() checks each entry against the clock before using it.
            .expireAfter(
                Expiry.creating(
                    (String token, Verified v) ->
                        durationUntil(v.acceptedUntil(), clock.instant())))
            .recordStats()
            .build();
    try {
      this.verifier = new MACVerifier(settings.secret());
      this.signer = new MACSigner(settings.secret());
    } catch (JOSEException e) {
      throw new IllegalArgumentException("unusable watchparty.auth.secret: " + e.getMessage(), e);
    }
  }

  /** The identity in a token, or a refusal saying why the token is not acceptable. */
  public Identity verify(String token) {
    Verified known = verified.getIfPresent(token);
    if (known != null) {
      if (!known.acceptedUntil().isBefore(clock.instant())) {
        return known.identity();
      }
      verified.invalidate(token);
    }
    Verified checked = check(token);
    verified.put(token, checked);
    return checked.identity();
  }

  /** How the remembered tokens were used: hits are calls that skipped the full check. */
  CacheStats rememberedStats() {
    return verified.stats();
  }

  private static Duration durationUntil(Instant end, Instant now) {
    return now.isAfter(end) ? Duration.ZERO : Duration.between(now, end);
  }

  /** Every check of a token, from its syntax to its expiry. */
  private Verified check(String token) {
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
    Instant now = clock.instant();
    Instant acceptedUntil = claims.getExpirationTime().toInstant().plus(CLOCK_SKEW);
    if (acceptedUntil.isBefore(now)) {
      throw new RefusedException(ErrorReason.TOKEN_EXPIRED, "the bearer token has expired");
    }
    // Remembered only once accepted, and time only moves on: a cached token never needs this again.
    Date notBefore = claims.getNotBeforeTime();
    if (notBefore != null && notBefore.toInstant().minus(CLOCK_SKEW).isAfter(now)) {
      throw new RefusedException(
          ErrorReason.TOKEN_NOT_YET_VALID, "the bearer token is not valid yet (see its nbf claim)");
    }
    Identity identity;
    try {
      identity =
          new Identity(
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
    return new Verified(identity, acceptedUntil);
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
