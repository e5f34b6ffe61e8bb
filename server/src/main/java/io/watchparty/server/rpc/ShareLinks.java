package io.watchparty.server.rpc;

import java.net.URI;
import java.util.Optional;

/** Builds the shareable link of a room: the web page that opens it, with the invite if private. */
public record ShareLinks(URI base) {
  public ShareLinks {
    if (!base.isAbsolute()) {
      throw new IllegalArgumentException(
          "watchparty.server.links must be an absolute URL, got " + base);
    }
  }

  String linkTo(String roomId, Optional<String> inviteToken) {
    String root = base.toString().replaceAll("/+$", "");
    return root + "/rooms/" + roomId + inviteToken.map(t -> "?invite=" + t).orElse("");
  }
}
