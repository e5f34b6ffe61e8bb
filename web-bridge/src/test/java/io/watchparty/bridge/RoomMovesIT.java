package io.watchparty.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.WatchPartyServer;
import io.watchparty.server.testing.PrometheusText;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The bridge in front of a fleet of servers, where each room is owned by one instance and another
 * refuses calls about it {@code ROOM_MOVED}, naming the owner: the bridge's upstream is the
 * platform's server, and the rooms are owned by other instances on the same keyspace. The bridge
 * follows each room to its owner, for its relay stream and for the browsers' calls about it, and a
 * browser's stream goes on when the room moves while it is open.
 */
class RoomMovesIT {
  @RegisterExtension static final Platform platform = Platform.builder().build();

  @Test
  void aRoomOwnedByAnotherInstanceIsServedThroughTheBridgeAtItsOwner() {
    long movesBefore = roomMoves();
    try (Instance owner = new Instance(platform.startInstance());
        Browser alice = platform.browser("alice")) {
      String roomId = owner.createRoom("alice");

      // Every call goes to the bridge's upstream first, which does not own the room.
      alice.ok("/api/rooms/" + roomId + "/join", "{}");
      SseProbe events = alice.events(roomId);
      SseProbe.Event snapshot = events.next("snapshot");
      assertThat(snapshot.sequence() >> 32).as("the owner's epoch").isEqualTo(1);

      EventStreamsIT.seek(alice, roomId, 42_000);
      SseProbe.Event seek = events.next("playback_changed");
      assertThat(seek.positionMs()).isEqualTo(42_000);
      assertThat(seek.sequence()).isGreaterThan(snapshot.sequence());

      chatIsDelivered(alice, events, roomId, "moved-1", "hello from the other instance");
      assertThat(
              alice
                  .ok("/api/rooms/" + roomId + "/chat")
                  .arrayValue("messages")
                  .orElseThrow()
                  .values())
          .hasSize(1);

      // The room stayed with its owner: the bridge went there rather than taking it elsewhere.
      assertThat(ownerIdOf(roomId)).isEqualTo(owner.server.instance().id());
      assertThat(roomMoves()).isGreaterThan(movesBefore);
      assertThat(events.closed()).isFalse();
    }
  }

  @Test
  void aRoomThatMovesWhileItsStreamIsOpenIsFollowedToItsNewOwner() {
    try (Instance first = new Instance(platform.startInstance());
        Instance next = new Instance(platform.startInstance());
        Browser alice = platform.browser("alice")) {
      String roomId = first.createRoom("alice");
      alice.ok("/api/rooms/" + roomId + "/join", "{}");
      SseProbe events = alice.events(roomId);
      SseProbe.Event before = events.next("snapshot");
      assertThat(before.sequence() >> 32).isEqualTo(1);
      long movesBefore = roomMoves();

      // Another instance takes the room while the first one is unaware (paused, say): a claim over
      // the epoch it read, as an instance makes it.
      assertThat(
              platform
                  .session()
                  .execute(
                      "UPDATE rooms SET owner_id = ?, owner_address = ?, owner_epoch = 2"
                          + " WHERE room_id = ? IF owner_epoch = 1",
                      next.server.instance().id(),
                      next.server.instance().address(),
                      UUID.fromString(roomId))
                  .wasApplied())
          .isTrue();

      // The first instance's next write of the room is refused: it lets the room go and ends its
      // streams ROOM_MOVED, naming the new owner. (The seek is accepted either way: by the first
      // instance, which acknowledges playback at once, or by the new owner after a refusal.)
      EventStreamsIT.seek(alice, roomId, 99_000);

      // The relay followed the room: the browser's stream goes on, from a fresh snapshot of the
      // new owner, whose numbers are past the old one's.
      SseProbe.Event after =
          events.next(e -> e.name().equals("snapshot") && e.sequence() >> 32 > 1);
      assertThat(after.sequence()).isGreaterThan(before.sequence());
      long epoch = after.sequence() >> 32;

      EventStreamsIT.seek(alice, roomId, 7_000);
      SseProbe.Event seek =
          events.next(e -> e.name().equals("playback_changed") && e.positionMs() == 7_000);
      assertThat(seek.sequence() >> 32).isEqualTo(epoch);
      chatIsDelivered(alice, events, roomId, "after-move", "still here");

      assertThat(ownerIdOf(roomId)).isEqualTo(next.server.instance().id());
      assertThat(roomMoves()).isGreaterThan(movesBefore);
      assertThat(events.closed()).isFalse();
    }
  }

  @Test
  void theRoomOfAnOwnerThatStoppedIsServedThroughTheUpstreamAgain() {
    try (Browser alice = platform.browser("alice")) {
      Instance owner = new Instance(platform.startInstance());
      String roomId;
      SseProbe events;
      SseProbe.Event before;
      try {
        roomId = owner.createRoom("alice");
        alice.ok("/api/rooms/" + roomId + "/join", "{}");
        events = alice.events(roomId);
        before = events.next("snapshot");
      } finally {
        owner.close(); // its streams end, and its heartbeat row goes with it
      }

      // The relay cannot reach the owner it knew: it asks the upstream, which claims the room.
      SseProbe.Event after =
          events.next(e -> e.name().equals("snapshot") && e.sequence() >> 32 > 1);
      assertThat(after.sequence()).isGreaterThan(before.sequence());
      EventStreamsIT.seek(alice, roomId, 12_000);
      assertThat(
              events
                      .next(e -> e.name().equals("playback_changed") && e.positionMs() == 12_000)
                      .sequence()
                  >> 32)
          .isEqualTo(after.sequence() >> 32);
      assertThat(ownerIdOf(roomId)).isEqualTo(platform.server().instance().id());
      assertThat(events.closed()).isFalse();
    }
  }

  @Test
  void aBrowserIsNotToldTheAddressOfAnOwnerTheBridgeCannotReach() throws IOException {
    try (Instance creator = new Instance(platform.startInstance());
        Browser alice = platform.browser("alice");
        ServerSocket notGrpc = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      // A live instance the bridge cannot reach owns the room: its heartbeat row names a port that
      // accepts connections (so the platform's server counts it live) and closes them at once.
      Thread.ofVirtual().start(() -> closeEveryConnection(notGrpc));
      String owner = "127.0.0.1:" + notGrpc.getLocalPort();
      String roomId = creator.createRoom("alice");
      platform
          .session()
          .execute(
              "INSERT INTO instances (instance_id, address, started_ms, rooms)"
                  + " VALUES ('unreachable', ?, 0, 0) USING TTL 60",
              owner);
      try {
        assertThat(
                platform
                    .session()
                    .execute(
                        "UPDATE rooms SET owner_id = 'unreachable', owner_address = ?,"
                            + " owner_epoch = 2 WHERE room_id = ? IF owner_epoch = 1",
                        owner,
                        UUID.fromString(roomId))
                    .wasApplied())
            .isTrue();

        HttpResponse<String> refused = alice.post("/api/rooms/" + roomId + "/join", "{}");

        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.body())
            .contains("\"ROOM_MOVED\"")
            .contains(roomId)
            .doesNotContain(owner)
            .doesNotContain("owner_address");
      } finally {
        // Not a successor for the other tests' instances when they stop.
        platform.session().execute("DELETE FROM instances WHERE instance_id = 'unreachable'");
      }
    }
  }

  private static void closeEveryConnection(ServerSocket socket) {
    while (!socket.isClosed()) {
      try {
        socket.accept().close();
      } catch (IOException closed) {
        return;
      }
    }
  }

  /** A server instance beside the platform's, with a gRPC channel to it. */
  private static final class Instance implements AutoCloseable {
    final WatchPartyServer server;
    final ManagedChannel channel;

    Instance(WatchPartyServer server) {
      this.server = server;
      this.channel =
          Grpc.newChannelBuilderForAddress(
                  "127.0.0.1", server.port(), InsecureChannelCredentials.create())
              .build();
    }

    /** A public room created at this instance, which owns it then. */
    String createRoom(String hostUserId) {
      return RoomServiceGrpc.newBlockingStub(channel)
          .withCallCredentials(BearerToken.of(platform.token(hostUserId)))
          .createRoom(
              CreateRoomRequest.newBuilder()
                  .setTitleId("sintel")
                  .setName("A party elsewhere")
                  .setSettings(RoomSettings.newBuilder().setVisibility(Visibility.PUBLIC))
                  .build())
          .getRoom()
          .getRoomId();
    }

    @Override
    public void close() {
      channel.shutdownNow();
      server.close();
    }
  }

  /** Sends a chat message through the bridge; its event reaches the browser's stream. */
  private static void chatIsDelivered(
      Browser browser, SseProbe events, String roomId, String clientMessageId, String text) {
    browser.ok(
        "/api/rooms/" + roomId + "/chat",
        "{\"clientMessageId\":\"" + clientMessageId + "\",\"text\":\"" + text + "\"}");
    SseProbe.Event chat = events.next("chat");
    assertThat(chat.json().objectValue("chat").orElseThrow().stringValue("text")).contains(text);
  }

  private static String ownerIdOf(String roomId) {
    return platform
        .session()
        .execute("SELECT owner_id FROM rooms WHERE room_id = ?", UUID.fromString(roomId))
        .one()
        .getString("owner_id");
  }

  private static long roomMoves() {
    return (long)
        PrometheusText.sum(
            platform.bridgeMetrics(), "watchparty_bridge_room_moves_total", Map.of());
  }
}
