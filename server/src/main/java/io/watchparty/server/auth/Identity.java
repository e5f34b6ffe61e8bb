package io.watchparty.server.auth;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.Echo;
import io.watchparty.server.refusal.RefusedException;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A verified caller. Built only from a verified token: region and subscription are never taken from
 * request fields.
 *
 * @param userId stable account id
 * @param displayName shown to other members
 * @param region home region, ISO 3166-1 alpha-2, upper case
 * @param subscribed whether the subscription is active (needed to host and to join)
 * @param admin may change the catalog
 * @param relay a relay (the web bridge) that subscribes to rooms on behalf of its viewers
 */
public record Identity(
    String userId,
    String displayName,
    String region,
    boolean subscribed,
    boolean admin,
    boolean relay) {

  private static final Pattern USER_ID = Pattern.compile("[A-Za-z0-9._@-]{1,64}");
  private static final Set<String> REGIONS = Set.of(Locale.getISOCountries());

  public Identity {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(displayName, "displayName");
    Objects.requireNonNull(region, "region");
    if (!isUserId(userId)) {
      throw new IllegalArgumentException("user id must be 1-64 of [A-Za-z0-9._@-], got: " + userId);
    }
    if (displayName.isBlank() || displayName.length() > 64) {
      throw new IllegalArgumentException("display name must be 1-64 characters");
    }
    if (!isRegion(region)) {
      throw new IllegalArgumentException(
          "region must be an ISO 3166-1 alpha-2 code in upper case, got: " + region);
    }
  }

  /** Whether {@code userId} is a well-formed user id: 1-64 of {@code [A-Za-z0-9._@-]}. */
  public static boolean isUserId(String userId) {
    return USER_ID.matcher(userId).matches();
  }

  /** {@code userId} if it is well-formed; refuses it with MALFORMED_ID otherwise. */
  public static String requireUserId(String userId) {
    if (!isUserId(userId)) {
      throw new RefusedException(
          ErrorReason.MALFORMED_ID,
          "user id " + Echo.quoted(userId) + " is malformed",
          Map.of("field", "user_id"));
    }
    return userId;
  }

  /** Whether {@code region} is an ISO 3166-1 alpha-2 code, in upper case. */
  public static boolean isRegion(String region) {
    return REGIONS.contains(region);
  }
}
