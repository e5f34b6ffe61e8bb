package io.watchparty.server.room;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.ServerMessage.KindCase;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.Commands;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** One stalled receiver costs the others nothing, and the server holds a bounded backlog for it. */
class FanOutIT {
  static final int OUTBOX = 8;
  static final int COMMANDS = 200;

  @RegisterExtension
  static final TestServer wp = TestServer.builder().rooms(r -> r.outboxCapacity(OUTBOX)).build();

  @Test
  void replayThatOverflowsTheOutboxGivesWayToASnapshotWithNothingOlderAfterIt() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    StreamProbe bob = wp.connect("bob").join(roomId);
    long lastSeen = bob.next(KindCase.SNAPSHOT).getSequence();
    bob.disconnect();
    long last = 0;
    int missed = 2 * OUTBOX + 4;
    for (int i = 1; i <= missed; i++) {
      last = alice.resultOf(alice.command(Commands.seek(i * 1_000L))).getAccepted().getSequence();
    }
    long lastSequence = last;

    // Bob comes back on a slow device: it takes one message, and the replay piles up.
    StreamProbe back = wp.connectStalled("bob").resume(roomId, "", lastSeen);
    Room room = RoomFixture.settled(wp.server().rooms().find(roomId));
    await()
        .atMost(StreamProbe.WAIT)
        .until(() -> room.connectionsOf("bob").stream().anyMatch(s -> s.resyncs() > 0));
    back.read(1_000);

    ServerMessage snapshot = back.skipTo(KindCase.SNAPSHOT);
    assertThat(snapshot.getSequence()).isEqualTo(lastSequence);
    assertThat(snapshot.getSnapshot().getPlayback().getPositionMs()).isEqualTo(missed * 1_000L);
    long next = alice.resultOf(alice.command(Commands.play())).getAccepted().getSequence();
    // Nothing older than the snapshot follows it: the next message is the next event.
    assertThat(back.next().getSequence()).isEqualTo(next);
  }

  @Test
  void stalledMemberDelaysNobodyAndIsResynchronizedFromASnapshot() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    StreamProbe bob = wp.connect("bob").join(roomId);
    bob.snapshot();
    StreamProbe stalled = wp.connectStalled("chiara").join(roomId);
    stalled.snapshot(); // the one message it asked for; it never reads again
    Subscriber stalledOnServer =
        RoomFixture.settled(wp.server().rooms().find(roomId)).connectionsOf("chiara").getFirst();

    // Bob takes each event before Alice sends the next command: a reader that keeps up, whatever
    // the machine's scheduling (with an outbox of 8, a test thread descheduled for a moment would
    // otherwise make Bob a slow reader too, and resynchronize him).
    List<ServerMessage> received = new ArrayList<>();
    long last = 0;
    for (int i = 1; i <= COMMANDS; i++) {
      long sequence =
          alice.resultOf(alice.command(Commands.seek(i * 1_000L))).getAccepted().getSequence();
      received.addAll(bob.until(m -> m.getSequence() == sequence));
      assertThat(stalledOnServer.backlog()).isLessThanOrEqualTo(OUTBOX);
      last = sequence;
    }
    long lastSequence = last;

    // Bob received every event, in order, while Chiara read nothing.
    List<ServerMessage> seen = received.stream().filter(ServerMessage::hasPlaybackChanged).toList();
    assertThat(seen).hasSize(COMMANDS);
    for (int i = 0; i < COMMANDS; i++) {
      assertThat(seen.get(i).getSequence()).isEqualTo(lastSequence - COMMANDS + 1 + i);
      assertThat(seen.get(i).getPlaybackChanged().getState().getPositionMs())
          .isEqualTo((i + 1) * 1_000L);
    }
    assertThat(stalledOnServer.backlog()).isBetween(1, OUTBOX);
    assertThat(stalledOnServer.resyncs()).isPositive();

    // Reading again, Chiara gets a fresh snapshot and the few events after it, not the backlog.
    stalled.read(1_000);
    ServerMessage snapshot = stalled.next(KindCase.SNAPSHOT);
    List<ServerMessage> rest =
        snapshot.getSequence() == lastSequence
            ? List.of()
            : stalled.until(m -> m.getSequence() == lastSequence);
    assertThat(rest).hasSizeLessThan(OUTBOX);
    assertThat(snapshot.getSequence() + rest.size()).isEqualTo(lastSequence);
    long expected = snapshot.getSequence();
    for (ServerMessage event : rest) {
      assertThat(event.getSequence()).isEqualTo(++expected);
    }
    long finalPosition =
        rest.isEmpty()
            ? snapshot.getSnapshot().getPlayback().getPositionMs()
            : rest.getLast().getPlaybackChanged().getState().getPositionMs();
    assertThat(finalPosition).isEqualTo(COMMANDS * 1_000L);
  }

  @Test
  void answersToAStalledStreamsOwnRequestsSurviveItsResync() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    StreamProbe stalled = wp.connectStalled("chiara").join(roomId);
    stalled.snapshot(); // the one message it asked for; it reads nothing more for now
    Subscriber stalledOnServer =
        RoomFixture.settled(wp.server().rooms().find(roomId)).connectionsOf("chiara").getFirst();

    // Chiara asks three times for the clock and tries three commands (a viewer: each refused).
    List<String> commands = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      stalled.ping(i);
      commands.add(stalled.command(Commands.play()));
    }
    await().atMost(StreamProbe.WAIT).until(() -> stalledOnServer.backlog() >= 6);
    // Then the room moves on far past her outbox: she is resynchronized from a snapshot.
    for (int i = 1; i <= 2 * OUTBOX; i++) {
      alice.resultOf(alice.command(Commands.seek(i * 1_000L)));
    }
    assertThat(stalledOnServer.resyncs()).isPositive();

    // The snapshot stands for the events she missed, not for the answers she waits for: they
    // come before it, each one.
    stalled.read(1_000);
    List<ServerMessage> upToSnapshot = stalled.until(ServerMessage::hasSnapshot);
    assertThat(upToSnapshot)
        .filteredOn(ServerMessage::hasPong)
        .extracting(m -> m.getPong().getClientSendTimeMs())
        .containsExactly(1L, 2L, 3L);
    assertThat(upToSnapshot)
        .filteredOn(ServerMessage::hasCommandResult)
        .extracting(m -> m.getCommandResult().getRequestId())
        .containsExactlyElementsOf(commands);
    assertThat(upToSnapshot)
        .filteredOn(ServerMessage::hasCommandResult)
        .allSatisfy(m -> assertThat(m.getCommandResult().hasRejected()).isTrue());
  }
}
