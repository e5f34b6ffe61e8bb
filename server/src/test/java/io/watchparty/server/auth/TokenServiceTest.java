package io.watchparty.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.RefusedException;
import io.watchparty.server.testing.MutableClock;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TokenServiceTest {
  private static final String SECRET = "0123456789abcdef0123456789abcdef";
  private static final byte[] SECRET_BYTES = SECRET.getBytes(StandardCharsets.UTF_8);
  private static final byte[] LONG_SECRET =
      "0123456789abcdef".repeat(4).getBytes(StandardCharsets.UTF_8);
  private static final Instant NOW = Instant.parse("2030-01-01T12:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  private static final Identity ALICE =
      new Identity("alice@example.com", "Alice", "GB", true, true, false);
  private static final Identity RELAY =
      new Identity("web-bridge.1", "Bridge", "US", false, false, true);

  private final TokenService tokens = new TokenService(AuthSettings.hs256(SECRET, false), CLOCK);

  private static AbstractThrowableAssert<?, ? extends Throwable> assertRefused(
      Runnable call, ErrorReason reason) {
    return assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            RefusedException.class, e -> assertThat(e.reason()).isEqualTo(reason));
  }

  /** The claims of a token the default service accepts, to be edited by a test. */
  private static Map<String, Object> validClaims() {
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("sub", "bob");
    claims.put("iss", "watchparty");
    claims.put("exp", Date.from(NOW.plus(Duration.ofHours(1))));
    claims.put("name", "Bob");
    claims.put("region", "FR");
    claims.put("subscription", "active");
    return claims;
  }

  private static String sign(JWSAlgorithm algorithm, byte[] secret, Map<String, Object> claims) {
    JWTClaimsSet.Builder builder = new JWTClaimsSet.Builder();
    claims.forEach(builder::claim);
    SignedJWT jwt = new SignedJWT(new JWSHeader(algorithm), builder.build());
    try {
      jwt.sign(new MACSigner(secret));
    } catch (JOSEException e) {
      throw new AssertionError(e);
    }
    return jwt.serialize();
  }

  private static String sign(Map<String, Object> claims) {
    return sign(JWSAlgorithm.HS256, SECRET_BYTES, claims);
  }

  @Test
  void issuedTokenVerifiesBackToTheSameIdentity() {
    assertThat(tokens.verify(tokens.issue(ALICE, Duration.ofHours(1)))).isEqualTo(ALICE);
    assertThat(tokens.verify(tokens.issue(RELAY, Duration.ofMinutes(5)))).isEqualTo(RELAY);
  }

  @Test
  void issuedTokenCarriesTheDocumentedClaims() throws Exception {
    JWTClaimsSet claims =
        SignedJWT.parse(tokens.issue(ALICE, Duration.ofMinutes(30))).getJWTClaimsSet();

    assertThat(claims.getSubject()).isEqualTo("alice@example.com");
    assertThat(claims.getIssuer()).isEqualTo("watchparty");
    assertThat(claims.getIssueTime().toInstant()).isEqualTo(NOW);
    assertThat(claims.getExpirationTime().toInstant()).isEqualTo(NOW.plus(Duration.ofMinutes(30)));
    assertThat(claims.getStringClaim("name")).isEqualTo("Alice");
    assertThat(claims.getStringClaim("region")).isEqualTo("GB");
    assertThat(claims.getStringClaim("subscription")).isEqualTo("active");
    assertThat(claims.getBooleanClaim("admin")).isTrue();
    assertThat(claims.getBooleanClaim("relay")).isFalse();
  }

  @Test
  void tokenFromAnotherSignerWithTheSameSecretVerifies() {
    Identity bob = tokens.verify(sign(validClaims()));

    assertThat(bob).isEqualTo(new Identity("bob", "Bob", "FR", true, false, false));
  }

  @Test
  void tokenIsAcceptedWithinTheClockSkewAndRefusedAfterIt() {
    String token = tokens.issue(ALICE, Duration.ofMinutes(10));
    Instant expiry = NOW.plus(Duration.ofMinutes(10));

    TokenService atSkewLimit =
        new TokenService(
            AuthSettings.hs256(SECRET, false), Clock.fixed(expiry.plusSeconds(30), ZoneOffset.UTC));
    TokenService pastSkew =
        new TokenService(
            AuthSettings.hs256(SECRET, false),
            Clock.offset(CLOCK, Duration.ofMinutes(10).plusSeconds(31)));

    assertThat(atSkewLimit.verify(token)).isEqualTo(ALICE);
    assertRefused(() -> pastSkew.verify(token), ErrorReason.TOKEN_EXPIRED)
        .hasMessage("the bearer token has expired");
  }

  @Test
  void aTokenIsRefusedBeforeItsNotBeforeTimeLessTheSkewAndAcceptedFromThen() {
    MutableClock clock = MutableClock.at(NOW);
    TokenService service = new TokenService(AuthSettings.hs256(SECRET, false), clock);
    Map<String, Object> claims = validClaims();
    claims.put("nbf", Date.from(NOW.plus(Duration.ofMinutes(5))));
    String token = sign(claims);

    assertRefused(() -> service.verify(token), ErrorReason.TOKEN_NOT_YET_VALID)
        .hasMessage("the bearer token is not valid yet (see its nbf claim)");
    clock.advance(Duration.ofMinutes(5).minusSeconds(31));
    assertRefused(() -> service.verify(token), ErrorReason.TOKEN_NOT_YET_VALID);
    clock.advance(Duration.ofSeconds(1));

    assertThat(service.verify(token).userId()).isEqualTo("bob");
  }

  @Test
  void aTokenSeenAgainIsAnsweredFromMemoryWithTheSameIdentity() {
    String token = tokens.issue(ALICE, Duration.ofHours(1));

    assertThat(tokens.verify(token)).isEqualTo(ALICE);
    assertThat(tokens.verify(token)).isEqualTo(ALICE);
    assertThat(tokens.verify(token)).isEqualTo(ALICE);

    assertThat(tokens.rememberedStats().hitCount()).isEqualTo(2);
  }

  @Test
  void aRememberedTokenIsRefusedOnceItExpires() {
    MutableClock clock = MutableClock.atNow();
    TokenService service = new TokenService(AuthSettings.hs256(SECRET, false), clock);
    String token = service.issue(ALICE, Duration.ofMinutes(10));
    assertThat(service.verify(token)).isEqualTo(ALICE);

    // exp is in whole seconds, at most one before the ten minutes are up; then 30 s of skew.
    clock.advance(Duration.ofMinutes(10).plusSeconds(29));
    assertThat(service.verify(token)).isEqualTo(ALICE);
    clock.advance(Duration.ofSeconds(2));

    assertRefused(() -> service.verify(token), ErrorReason.TOKEN_EXPIRED)
        .hasMessage("the bearer token has expired");
    assertRefused(() -> service.verify(token), ErrorReason.TOKEN_EXPIRED);
  }

  @Test
  void aRefusedTokenIsNeverRemembered() {
    String[] parts = tokens.issue(ALICE, Duration.ofHours(1)).split("\\.");
    String badSignature = parts[0] + "." + parts[1] + "." + sign(validClaims()).split("\\.")[2];

    for (int i = 0; i < 3; i++) {
      assertRefused(() -> tokens.verify(badSignature), ErrorReason.TOKEN_INVALID)
          .hasMessage("the bearer token's signature is not valid");
    }
    assertThat(tokens.rememberedStats().hitCount()).isZero();
  }

  @Test
  void aRememberedTokenDoesNotVouchForAnotherWithTheSamePayload() {
    String[] parts = tokens.issue(ALICE, Duration.ofHours(1)).split("\\.");
    assertThat(tokens.verify(String.join(".", parts))).isEqualTo(ALICE);
    char[] signature = parts[2].toCharArray();
    signature[5] = signature[5] == 'A' ? 'B' : 'A'; // one bit of the MAC, not of the padding
    String tampered = parts[0] + "." + parts[1] + "." + new String(signature);

    assertRefused(() -> tokens.verify(tampered), ErrorReason.TOKEN_INVALID);
  }

  @Test
  void tokenSignedWithAnotherSecretIsInvalid() {
    TokenService other =
        new TokenService(AuthSettings.hs256("another-secret-another-secret-0000", false), CLOCK);
    String token = other.issue(ALICE, Duration.ofHours(1));

    assertRefused(() -> tokens.verify(token), ErrorReason.TOKEN_INVALID)
        .hasMessage("the bearer token's signature is not valid");
  }

  @Test
  void tamperedPayloadIsInvalid() {
    String token =
        tokens.issue(
            new Identity("carol", "Carol", "DE", false, false, false), Duration.ofHours(1));
    String[] parts = token.split("\\.");
    String forged = sign(validClaims()).split("\\.")[1]; // a payload with an active subscription
    String tampered = parts[0] + "." + forged + "." + parts[2];

    assertRefused(() -> tokens.verify(tampered), ErrorReason.TOKEN_INVALID)
        .hasMessage("the bearer token's signature is not valid");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "garbage", "a.b.c", "Bearer abc.def.ghi"})
  void garbageIsInvalid(String token) {
    assertRefused(() -> tokens.verify(token), ErrorReason.TOKEN_INVALID);
  }

  @Test
  void unsignedTokenIsInvalid() {
    String header = "eyJhbGciOiJub25lIn0"; // {"alg":"none"}
    String payload = sign(validClaims()).split("\\.")[1];

    assertRefused(() -> tokens.verify(header + "." + payload + "."), ErrorReason.TOKEN_INVALID);
  }

  @Test
  void tokenFromAForeignIssuerIsInvalid() {
    Map<String, Object> claims = validClaims();
    claims.put("iss", "someone-else");

    assertRefused(() -> tokens.verify(sign(claims)), ErrorReason.TOKEN_INVALID)
        .hasMessage("the bearer token has a foreign issuer");
  }

  @Test
  void serviceWithAnotherIssuerRefusesOurTokens() {
    TokenService foreign =
        new TokenService(
            new AuthSettings(
                JWSAlgorithm.HS256,
                SECRET_BYTES,
                "accounts.example.com",
                false,
                Duration.ofHours(1)),
            CLOCK);

    assertRefused(
            () -> foreign.verify(tokens.issue(ALICE, Duration.ofHours(1))),
            ErrorReason.TOKEN_INVALID)
        .hasMessage("the bearer token has a foreign issuer");
  }

  @ParameterizedTest
  @ValueSource(strings = {"sub", "name", "region", "subscription", "exp", "iss"})
  void tokenWithoutARequiredClaimIsInvalid(String claim) {
    Map<String, Object> claims = validClaims();
    claims.remove(claim);

    assertRefused(() -> tokens.verify(sign(claims)), ErrorReason.TOKEN_INVALID)
        .hasMessage("the bearer token lacks the '" + claim + "' claim");
  }

  @ParameterizedTest
  @ValueSource(strings = {"gb", "XX", "GBR", ""})
  void tokenWithABadRegionIsInvalid(String region) {
    Map<String, Object> claims = validClaims();
    claims.put("region", region);

    assertRefused(() -> tokens.verify(sign(claims)), ErrorReason.TOKEN_INVALID)
        .hasMessageStartingWith("the bearer token's claims are malformed");
  }

  @Test
  void tokenWithABadUserIdIsInvalid() {
    Map<String, Object> claims = validClaims();
    claims.put("sub", "bob smith");

    assertRefused(() -> tokens.verify(sign(claims)), ErrorReason.TOKEN_INVALID)
        .hasMessageStartingWith("the bearer token's claims are malformed");
  }

  @Test
  void nonBooleanAdminClaimIsInvalid() {
    Map<String, Object> claims = validClaims();
    claims.put("admin", "true");

    assertRefused(() -> tokens.verify(sign(claims)), ErrorReason.TOKEN_INVALID)
        .hasMessageStartingWith("the bearer token's claims are malformed");
  }

  @Test
  void tokenSignedWithAnotherAlgorithmIsInvalidEvenWithTheRightSecret() {
    String hs384 = sign(JWSAlgorithm.HS384, LONG_SECRET, validClaims());
    TokenService hs256Verifier =
        new TokenService(
            new AuthSettings(
                JWSAlgorithm.HS256, LONG_SECRET, "watchparty", false, Duration.ofHours(1)),
            CLOCK);
    TokenService hs384Verifier =
        new TokenService(
            new AuthSettings(
                JWSAlgorithm.HS384, LONG_SECRET, "watchparty", false, Duration.ofHours(1)),
            CLOCK);

    assertThat(hs384Verifier.verify(hs384).userId()).isEqualTo("bob");
    assertRefused(() -> hs256Verifier.verify(hs384), ErrorReason.TOKEN_INVALID)
        .hasMessage("the bearer token's signature is not valid");
  }

  @Test
  void hs512ServiceIssuesAndVerifies() {
    TokenService hs512 =
        new TokenService(
            new AuthSettings(
                JWSAlgorithm.HS512, LONG_SECRET, "watchparty", true, Duration.ofHours(1)),
            CLOCK);

    assertThat(hs512.verify(hs512.issue(ALICE, Duration.ofHours(1)))).isEqualTo(ALICE);
  }

  @ParameterizedTest
  @ValueSource(strings = {"inactive", "Active", "trial", "cancelled"})
  void anySubscriptionButActiveIsNotSubscribed(String subscription) {
    Map<String, Object> claims = validClaims();
    claims.put("subscription", subscription);

    Identity identity = tokens.verify(sign(claims));

    assertThat(identity.subscribed()).isFalse();
    assertThat(identity.userId()).isEqualTo("bob");
  }

  @Test
  void optionalAdminAndRelayClaimsAreRead() {
    Map<String, Object> claims = validClaims();
    claims.put("admin", true);
    claims.put("relay", true);

    Identity identity = tokens.verify(sign(claims));

    assertThat(identity.admin()).isTrue();
    assertThat(identity.relay()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "bob smith",
        "bob/1",
        "é",
        "x123456789x123456789x123456789x123456789x123456789x123456789xxxxx"
      })
  void identityRefusesABadUserId(String userId) {
    assertThatThrownBy(() -> new Identity(userId, "Bob", "FR", true, false, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("user id must be 1-64 of [A-Za-z0-9._@-]");
  }

  @Test
  void identityAcceptsA64CharacterUserIdAndName() {
    String id = "a".repeat(64);
    String name = "N".repeat(64);

    assertThat(new Identity(id, name, "FR", true, false, false).userId()).isEqualTo(id);
    assertThatThrownBy(() -> new Identity(id, name + "N", "FR", true, false, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("display name must be 1-64 characters");
    assertThatThrownBy(() -> new Identity(id, "  ", "FR", true, false, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("display name must be 1-64 characters");
  }

  @ParameterizedTest
  @ValueSource(strings = {"gb", "XX", "GBR", "", "Fr"})
  void identityRefusesABadRegion(String region) {
    assertThatThrownBy(() -> new Identity("bob", "Bob", region, true, false, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("region must be an ISO 3166-1 alpha-2 code in upper case, got: " + region);
    assertThat(Identity.isRegion(region)).isFalse();
  }

  @Test
  void authSettingsRefusesASecretShorterThanTheHash() {
    byte[] secret48 = new byte[48];

    assertThatThrownBy(
            () ->
                new AuthSettings(
                    JWSAlgorithm.HS384, new byte[47], "watchparty", false, Duration.ofHours(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("watchparty.auth.secret must be at least 48 bytes for HS384, got 47");
    assertThatThrownBy(
            () ->
                new AuthSettings(
                    JWSAlgorithm.HS512, secret48, "watchparty", false, Duration.ofHours(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("watchparty.auth.secret must be at least 64 bytes for HS512, got 48");
    assertThatThrownBy(() -> AuthSettings.hs256("x".repeat(31), false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("watchparty.auth.secret must be at least 32 bytes for HS256, got 31");
  }

  @Test
  void authSettingsRefusesAsymmetricAlgorithms() {
    assertThatThrownBy(
            () ->
                new AuthSettings(
                    JWSAlgorithm.RS256, LONG_SECRET, "watchparty", false, Duration.ofHours(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("watchparty.auth.algorithm must be HS256, HS384 or HS512, got: RS256");
  }

  @Test
  void authSettingsSecretCannotBeChangedFromOutside() {
    byte[] secret = SECRET.getBytes(StandardCharsets.UTF_8);
    AuthSettings settings =
        new AuthSettings(JWSAlgorithm.HS256, secret, "watchparty", false, Duration.ofHours(1));

    secret[0] = 'X';
    settings.secret()[1] = 'Y';

    assertThat(settings.secret()).isEqualTo(SECRET_BYTES);
  }
}
