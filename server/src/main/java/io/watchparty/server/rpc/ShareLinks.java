package io.watchparty.server.rpc;

import java.net.URI;
import java.util.Optional;

/**
 * Builds the shareable link of a room: the web page that opens it, with the invite if private. The
 * invite travels in the URL fragment ({@code #invite=...}), which browsers never send to a server:
 * it stays out of access logs and Referer headers, and the page hands it to the bridge in a body.
 */
public record ShareLinks(URI base) {
  public ShareLinks {
    if (!base.isAbsolute()) {
      throw new IllegalArgumentException(
          "watchparty.server.links must be an absolute URL, got " + base);
    }
  }

  String linkTo(String roomId, Optional<String> inviteToken) {
    String root = base.toString().replaceAll("/+$", "");
    return root + "/rooms/" + roomId + inviteToken.map(t -> "#invite=" + t).orElse("");
  }
}
