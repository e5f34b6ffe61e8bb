package io.watchparty.server.rpc;

import static io.watchparty.server.testing.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.datastax.oss.driver.api.core.cql.Row;
import com.google.rpc.ErrorInfo;
import io.grpc.Status.Code;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.ListChatHistoryRequest;
import io.watchparty.proto.v1.ListMyRoomsRequest;
import io.watchparty.proto.v1.ListPublicRoomsRequest;
import io.watchparty.proto.v1.RoomInfo;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.chat.ChatSettings;
import io.watchparty.server.store.CassandraChatLog;
import io.watchparty.server.testing.ChatCalls;
import io.watchparty.server.testing.Commands;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Several server instances on one keyspace, as a fleet shares its cluster (here one node): each
 * room is owned by one instance under an epoch stored with the room. A client of another live
 * instance is sent to the owner; an instance that stops hands its rooms to a live one, where its
 * clients are sent; and an instance that lost its room to another cannot change it any more, nor
 * write its chat: its streams are sent to the new owner.
 */
class RoomOwnershipIT {
  @RegisterExtension static final TestServer first = TestServer.builder().build();

  @Test
  void aClientOfAnotherLiveInstanceIsSentToTheOwner() {
    try (TestServer second = TestServer.builder().start(first.session())) {
      String roomId = first.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
      first.connect("alice").join(roomId).snapshot();

      ErrorInfo moved =
          second.connect("bob").join(roomId).awaitRefusal(Code.UNAVAILABLE, ErrorReason.ROOM_MOVED);

      assertThat(moved.getMetadataMap())
          .containsEntry("owner_address", first.server().instance().address())
          .containsEntry("owner_epoch", "1");
      assertThat(owner(roomId).getString("owner_id")).isEqualTo(first.server().instance().id());
      // Where it sends him, he joins.
      first.connect("bob").join(roomId).snapshot();
    }
  }

  @Test
  void everyInstanceListsARoomWithTheAudienceItsOwnerCounts() {
    try (TestServer second = TestServer.builder().start(first.session())) {
      String roomId = second.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
      for (String user : List.of("alice", "bob", "chiara")) {
        second.connect(user).join(roomId).snapshot();
      }

      // The room is in its owner's memory only: the other instance lists it from storage, with
      // the count its owner recorded, in the directory and in a member's parties alike.
      await().untilAsserted(() -> assertThat(listedAt(first, roomId)).hasValue(3L));
      assertThat(
              first.as("bob").listMyRooms(ListMyRoomsRequest.getDefaultInstance()).getRoomsList())
          .filteredOn(room -> room.getRoomId().equals(roomId))
          .singleElement()
          .extracting(RoomInfo::getMemberCount)
          .isEqualTo(3L);
      assertThat(listedAt(second, roomId)).hasValue(3L);
    }
  }

  /** The member count {@code instance}'s public directory gives the room, if it lists it. */
  private static Optional<Long> listedAt(TestServer instance, String roomId) {
    return instance
        .as("hiro")
        .listPublicRooms(ListPublicRoomsRequest.getDefaultInstance())
        .getRoomsList()
        .stream()
        .filter(room -> room.getRoomId().equals(roomId))
        .map(RoomInfo::getMemberCount)
        .findFirst();
  }

  @Test
  void aStoppingInstanceHandsItsRoomsToALiveOneAndItsClientsAreSentThereAtOnce() {
    String roomId;
    try (TestServer second = TestServer.builder().start(first.session())) {
      roomId = second.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
      StreamProbe alice = second.connect("alice").join(roomId);
      alice.snapshot();
      // Acknowledged at once, stored behind: the handover waits for it.
      alice.resultOf(alice.command(Commands.seek(42_000)));

      // A planned stop (SIGTERM): the room goes to the one other live instance.
      second.server().close();

      // Not SERVER_SHUTTING_DOWN: the stream is told where the room is now.
      ErrorInfo moved = alice.awaitRefusal(Code.UNAVAILABLE, ErrorReason.ROOM_MOVED);
      assertThat(moved.getMetadataMap())
          .containsEntry("owner_address", first.server().instance().address())
          .containsEntry("owner_epoch", "2");
    }
    Row handed = owner(roomId);
    assertThat(handed.getString("owner_id")).isEqualTo(first.server().instance().id());
    assertThat(handed.getLong("owner_epoch")).isEqualTo(2);
    assertThat(handed.getLong("position_ms")).isEqualTo(42_000);
    // The successor serves it from what was stored, under a claim of its own.
    StreamProbe again = first.connect("alice").join(roomId);
    assertThat(again.snapshot().getPlayback().getPositionMs()).isEqualTo(42_000);
    assertThat(owner(roomId).getLong("owner_epoch")).isEqualTo(3);
    again.resultOf(again.command(Commands.seek(7_000)));
    await().atMost(StreamProbe.WAIT).until(() -> owner(roomId).getLong("position_ms") == 7_000);
  }

  @Test
  void anOwnerThatLostItsRoomCannotWriteItAndSendsItsClientsToTheNewOwner() {
    String roomId = first.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = first.connect("alice").join(roomId);
    alice.snapshot();
    StreamProbe bob = first.connect("bob").join(roomId);
    bob.snapshot();
    await().atMost(StreamProbe.WAIT).until(() -> storedMember(roomId, "bob"));
    // Another instance takes the room while this one is unaware (paused, say): a claim over the
    // epoch it read, as an instance makes it.
    claimElsewhere(roomId);

    // The former owner still applies and acknowledges the seek (playback never waits for
    // storage), but its write is refused for the newer epoch: it lets the room go.
    alice.resultOf(alice.command(Commands.seek(99_000)));

    for (StreamProbe stream : new StreamProbe[] {alice, bob}) {
      ErrorInfo moved = stream.awaitRefusal(Code.UNAVAILABLE, ErrorReason.ROOM_MOVED);
      assertThat(moved.getMetadataMap())
          .containsEntry("owner_address", "10.0.0.9:50051")
          .containsEntry("owner_epoch", "2");
    }
    assertThat(owner(roomId).getLong("position_ms")).as("the refused write").isZero();
    assertThat(owner(roomId).getString("owner_id")).isEqualTo("elsewhere");
    // The owner "elsewhere" has no heartbeat (it is no live instance): a new join here claims the
    // room back, over its epoch.
    StreamProbe again = first.connect("alice").join(roomId);
    assertThat(again.snapshot().getPlayback().getPositionMs()).isZero();
    assertThat(owner(roomId).getLong("owner_epoch")).isEqualTo(3);
    again.resultOf(again.command(Commands.seek(7_000)));
    await().atMost(StreamProbe.WAIT).until(() -> owner(roomId).getLong("position_ms") == 7_000);
    assertThat(again.ended()).isFalse();
  }

  @Test
  void aRoomWhoseOwnerStillHasAHeartbeatButWhosePortRefusesConnectionsIsTakenOverAtOnce()
      throws IOException {
    String roomId = first.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    first.connect("alice").join(roomId).snapshot();
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    int listeningPort;
    try (ServerSocket listening = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      listeningPort = listening.getLocalPort();
      // An owner that answers keeps its room: the client is sent there.
      claimFor(roomId, 1, "alive", "127.0.0.1:" + listeningPort);
      ErrorInfo moved =
          first.connect("bob").join(roomId).awaitRefusal(Code.UNAVAILABLE, ErrorReason.ROOM_MOVED);
      assertThat(moved.getMetadataMap())
          .containsEntry("owner_address", "127.0.0.1:" + listeningPort);
    }
    // That instance stopped (its row is gone); another took the room and was killed (kill -9): its
    // heartbeat row lives on for a while, its port is closed at once.
    first.session().execute("DELETE FROM instances WHERE instance_id = 'alive'");
    claimFor(roomId, 2, "killed", "127.0.0.1:" + closedPort);

    StreamProbe bob = first.connect("bob").join(roomId);

    assertThat(bob.snapshot().getRoom().getRoomId()).isEqualTo(roomId);
    assertThat(owner(roomId).getString("owner_id")).isEqualTo(first.server().instance().id());
    assertThat(owner(roomId).getLong("owner_epoch")).isEqualTo(4);
  }

  /**
   * Another instance, {@code id} at {@code address}, claims the room over {@code epoch} and has a
   * heartbeat row that outlives the test.
   */
  private static void claimFor(String roomId, long epoch, String id, String address) {
    first
        .session()
        .execute(
            "INSERT INTO instances (instance_id, address, started_ms, rooms) VALUES (?, ?, 0, 1)"
                + " USING TTL 300",
            id,
            address);
    assertThat(
            first
                .session()
                .execute(
                    "UPDATE rooms SET owner_id = ?, owner_address = ?, owner_epoch = ?"
                        + " WHERE room_id = ? IF owner_epoch = ?",
                    id,
                    address,
                    epoch + 1,
                    UUID.fromString(roomId),
                    epoch)
                .wasApplied())
        .isTrue();
  }

  @Test
  void aChatMessageSentToAnOwnerThatLostTheRoomIsNotStoredAndItsRetryAtTheNewOwnerIsStoredOnce() {
    String roomId = first.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = first.connect("alice").join(roomId);
    alice.snapshot();
    ChatMessage before =
        first.chatAs("alice").sendChat(ChatCalls.request(roomId, "c-before", "before"));
    // Another instance takes the room while this one is unaware: its claim, then the fence of the
    // room's chat, as its registry makes them when it loads the room.
    UUID id = UUID.fromString(roomId);
    claimElsewhere(roomId);
    new CassandraChatLog(first.session(), ChatSettings.DEFAULTS, Clock.systemUTC())
        .fence(id, 2)
        .toCompletableFuture()
        .join();

    // The former owner admits the message, but storage refuses its write: the sender is sent to
    // the owner, and so are the room's streams.
    ErrorInfo refused =
        assertRefused(
            () -> first.chatAs("alice").sendChat(ChatCalls.request(roomId, "c-late", "late")),
            Code.UNAVAILABLE,
            ErrorReason.ROOM_MOVED);
    assertThat(refused.getMetadataMap()).containsEntry("owner_epoch", "2");
    alice.awaitRefusal(Code.UNAVAILABLE, ErrorReason.ROOM_MOVED);
    assertThat(history(roomId)).containsExactly(before);

    // "elsewhere" is no live instance: the next join here claims the room (epoch 3) and the retry
    // of the refused send, under its client message id, is stored once; the earlier one is found.
    StreamProbe again = first.connect("alice").join(roomId);
    assertThat(again.snapshot().getRecentChatList()).containsExactly(before);
    ChatMessage late = first.chatAs("alice").sendChat(ChatCalls.request(roomId, "c-late", "late"));
    assertThat(first.chatAs("alice").sendChat(ChatCalls.request(roomId, "c-late", "late")))
        .isEqualTo(late);
    assertThat(first.chatAs("alice").sendChat(ChatCalls.request(roomId, "c-before", "before")))
        .isEqualTo(before);
    assertThat(history(roomId)).containsExactly(late, before);
  }

  /** Another instance ("elsewhere", with no heartbeat) claims the room over epoch 1. */
  private static void claimElsewhere(String roomId) {
    assertThat(
            first
                .session()
                .execute(
                    "UPDATE rooms SET owner_id = 'elsewhere', owner_address = '10.0.0.9:50051',"
                        + " owner_epoch = 2 WHERE room_id = ? IF owner_epoch = 1",
                    UUID.fromString(roomId))
                .wasApplied())
        .isTrue();
  }

  private static List<ChatMessage> history(String roomId) {
    return first
        .chatAs("alice")
        .listChatHistory(ListChatHistoryRequest.newBuilder().setRoomId(roomId).build())
        .getMessagesList();
  }

  private static Row owner(String roomId) {
    return first
        .session()
        .execute(
            "SELECT owner_id, owner_address, owner_epoch, position_ms FROM rooms WHERE room_id = ?",
            UUID.fromString(roomId))
        .one();
  }

  private static boolean storedMember(String roomId, String userId) {
    return first
            .session()
            .execute(
                "SELECT room_id FROM rooms_by_user WHERE user_id = ? AND room_id = ?",
                userId,
                UUID.fromString(roomId))
            .one()
        != null;
  }
}
