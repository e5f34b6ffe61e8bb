package io.watchparty.bridge;

import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import java.util.UUID;

/** Room ids in request paths: UUIDs, checked before anything is asked of the server. */
final class RoomIds {
  private RoomIds() {}

  /** The {@code {id}} path parameter, canonical; 400 MALFORMED_ID when it is not a UUID. */
  static String of(ServerRequest req) {
    String id = req.path().pathParameters().get("id");
    try {
      String canonical = UUID.fromString(id).toString();
      if (canonical.equalsIgnoreCase(id)) {
        return canonical;
      }
    } catch (IllegalArgumentException malformed) {
      // fall through to the refusal
    }
    throw new ApiException(
        Status.BAD_REQUEST_400, "MALFORMED_ID", "'" + id + "' is not a room id.");
  }
}
