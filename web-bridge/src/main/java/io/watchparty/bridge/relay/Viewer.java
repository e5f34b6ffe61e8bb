package io.watchparty.bridge.relay;

import io.grpc.CallCredentials;
import java.util.Objects;

/**
 * A browser user the relay serves, as the server verified them ({@code ViewerGrant}), with the
 * credentials the bridge uses to act for them (their own token, never the relay's).
 *
 * @param userId the id the relay names in its audience
 * @param displayName as others in the room see them (the relay passes it on to the server)
 * @param region their home region (passed on too: the host's count of who cannot watch a title)
 * @param credentials the user's bearer token as call credentials
 */
public record Viewer(
    String userId, String displayName, String region, CallCredentials credentials) {
  public Viewer {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(displayName, "displayName");
    Objects.requireNonNull(region, "region");
    Objects.requireNonNull(credentials, "credentials");
  }

  @Override
  public String toString() {
    return "Viewer[" + userId + "]"; // never the credentials
  }
}
