package io.watchparty.server.auth;

import java.util.List;
import java.util.Optional;

/**
 * The demo accounts of a local installation: several regions, one without a subscription, an admin,
 * and the web bridge's relay identity. The same users appear in the README, the web page and the
 * load tests.
 */
public final class DemoUsers {
  /** The relay account the web bridge authenticates with. */
  public static final String RELAY_USER_ID = "web-bridge";

  private static final List<Identity> USERS =
      List.of(
          new Identity("alice", "Alice", "US", true, false, false),
          new Identity("bob", "Bob", "GB", true, false, false),
          new Identity("chiara", "Chiara", "IT", true, false, false),
          new Identity("dmitri", "Dmitri", "DE", false, false, false),
          new Identity("emma", "Emma", "FR", true, false, false),
          new Identity("farid", "Farid", "IN", true, false, false),
          new Identity("gabriela", "Gabriela", "BR", true, false, false),
          new Identity("hiro", "Hiro", "JP", true, false, false),
          new Identity("admin", "Catalog Admin", "US", true, true, false),
          new Identity(RELAY_USER_ID, "Web bridge", "US", true, false, true));

  private DemoUsers() {}

  public static List<Identity> all() {
    return USERS;
  }

  public static Optional<Identity> find(String userId) {
    return USERS.stream().filter(u -> u.userId().equals(userId)).findFirst();
  }
}
