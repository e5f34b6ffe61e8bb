package io.watchparty.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.watchparty.proto.v1.SendCommandRequest;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.chat.ChatSettings;
import io.watchparty.server.testing.ChatCalls;
import io.watchparty.server.testing.Commands;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The room on gRPC's own executors, as on Netty, instead of {@code directExecutor}: calls, stream
 * callbacks and client deliveries run on pool threads, so what several members send at once crosses
 * threads on its way to everybody. Every member must still see every event once, in the room's
 * order.
 */
class ThreadedFanOutIT {
  static final List<String> SENDERS = List.of("alice", "bob", "chiara");
  static final List<String> VIEWERS = List.of("emma", "farid");
  static final int ROUNDS = 20;

  @RegisterExtension
  static final TestServer wp =
      TestServer.builder()
          .chat(ChatSettings.DEFAULTS.withMessageRate(1_000, 1_000))
          .realExecutors()
          .build();

  @Test
  void concurrentCommandsAndChatReachEveryMemberOnceInTheRoomsOrder() throws Exception {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    List<StreamProbe> members = new ArrayList<>();
    for (String user : concat(SENDERS, VIEWERS)) {
      StreamProbe member = wp.connect(user).join(roomId);
      member.snapshot();
      members.add(member);
    }
    StreamProbe alice = members.getFirst();
    for (String cohost : SENDERS.subList(1, SENDERS.size())) {
      assertThat(alice.resultOf(alice.command(Commands.grantCohost(cohost))).hasAccepted())
          .isTrue();
    }
    // Everything before this seek (joins, grants) is behind every member once they have seen it.
    long start =
        wp.as("alice")
            .sendCommand(
                SendCommandRequest.newBuilder()
                    .setRoomId(roomId)
                    .setCommand(Commands.seek(1_000))
                    .build())
            .getSequence();
    for (StreamProbe member : members) {
      member.until(m -> m.getSequence() == start);
    }

    try (ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> sent = new ArrayList<>();
      for (int s = 0; s < SENDERS.size(); s++) {
        StreamProbe sender = members.get(s);
        long base = positionBase(s);
        sent.add(
            senders.submit(
                () -> {
                  for (int i = 1; i <= ROUNDS; i++) {
                    sender.command(Commands.seek(base + i * 1_000L));
                    ChatCalls.send(sender, sender.userId() + "-" + i, "message " + i);
                  }
                }));
      }
      for (Future<?> done : sent) {
        done.get();
      }
    }

    int events = 2 * SENDERS.size() * ROUNDS;
    List<ServerMessage> first = null;
    for (StreamProbe member : members) {
      boolean sender = SENDERS.contains(member.userId());
      List<ServerMessage> seen = read(member, events, sender ? 2 * ROUNDS : 0);
      List<ServerMessage> roomEvents = seen.stream().filter(m -> m.getSequence() > 0).toList();

      // Every event once, numbered without gaps, and the same list for every member.
      assertThat(roomEvents)
          .extracting(ServerMessage::getSequence)
          .as("%s's room events", member.userId())
          .containsExactlyElementsOf(
              LongStream.rangeClosed(start + 1, start + events).boxed().toList());
      if (first == null) {
        first = roomEvents;
      } else {
        assertThat(roomEvents).as("%s's room events", member.userId()).isEqualTo(first);
      }
      if (sender) {
        assertThat(seen)
            .filteredOn(ServerMessage::hasCommandResult)
            .extracting(ServerMessage::getCommandResult)
            .as("%s's results", member.userId())
            .allMatch(r -> r.hasAccepted() || r.hasChatStored(), "accepted or stored");
      }
    }

    // Each sender's commands and messages took effect in the order that sender sent them.
    for (int s = 0; s < SENDERS.size(); s++) {
      String user = SENDERS.get(s);
      long base = positionBase(s);
      assertThat(first)
          .filteredOn(
              m -> m.hasPlaybackChanged() && m.getPlaybackChanged().getByUserId().equals(user))
          .extracting(m -> m.getPlaybackChanged().getState().getPositionMs())
          .containsExactlyElementsOf(
              LongStream.rangeClosed(1, ROUNDS).map(i -> base + i * 1_000L).boxed().toList());
      assertThat(first)
          .filteredOn(m -> m.hasChat() && m.getChat().getUserId().equals(user))
          .extracting(m -> m.getChat().getText())
          .containsExactlyElementsOf(
              LongStream.rangeClosed(1, ROUNDS).mapToObj(i -> "message " + i).toList());
    }
  }

  /** Where sender {@code s}'s seeks go: apart from the others' and within the 596 s title. */
  private static long positionBase(int s) {
    return 50_000L + s * 100_000L;
  }

  /** Messages up to the point where {@code events} room events and {@code results} arrived. */
  private static List<ServerMessage> read(StreamProbe member, int events, int results) {
    List<ServerMessage> seen = new ArrayList<>();
    int eventsSeen = 0;
    int resultsSeen = 0;
    while (eventsSeen < events || resultsSeen < results) {
      ServerMessage message = member.next();
      seen.add(message);
      if (message.getSequence() > 0) {
        eventsSeen++;
      } else if (message.hasCommandResult()) {
        resultsSeen++;
      }
    }
    return seen;
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
