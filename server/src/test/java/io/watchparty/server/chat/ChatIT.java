package io.watchparty.server.chat;

import static io.watchparty.server.testing.ChatCalls.send;
import static io.watchparty.server.testing.ChatCalls.stored;
import static io.watchparty.server.testing.Refusals.assertRefused;
import static io.watchparty.server.testing.Refusals.assertRejected;
import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.google.rpc.ErrorInfo;
import io.grpc.Status.Code;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.CommandResult;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.GetRoomRequest;
import io.watchparty.proto.v1.ListChatHistoryRequest;
import io.watchparty.proto.v1.ListChatHistoryResponse;
import io.watchparty.proto.v1.React;
import io.watchparty.proto.v1.ReactRequest;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.SendCommandRequest;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.ServerMessage.KindCase;
import io.watchparty.proto.v1.Snapshot;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.ChatCalls;
import io.watchparty.server.testing.Commands;
import io.watchparty.server.testing.MutableClock;
import io.watchparty.server.testing.RawRequests;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Chat end to end between gRPC clients, on the real Cassandra node: delivery order, idempotent
 * retries, history across buckets and restarts, moderation, and what is refused. The server clock
 * is a {@link MutableClock}, so buckets, mutes and slow mode pass without waiting.
 */
class ChatIT {
  private static final MutableClock clock = MutableClock.atNow();
  private static final ChatSettings SETTINGS =
      ChatSettings.DEFAULTS.withMessageRate(10_000, 10_000).withReactionRate(10_000, 10_000);

  @RegisterExtension
  static final TestServer wp = TestServer.builder().chat(SETTINGS).clock(clock).build();

  private String roomId;
  private StreamProbe alice;
  private StreamProbe bob;

  /** Alice hosts a public room; Bob watches. Both have read their joins. */
  @BeforeEach
  void aliceHostsBobWatches() {
    roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    bob = wp.connect("bob").join(roomId);
    bob.snapshot();
    alice.next(KindCase.MEMBER_JOINED);
  }

  @Test
  void messagesReachEveryMemberInOrderAndAreAcknowledgedOnceStored() {
    List<String> requests = new ArrayList<>();
    for (int i = 1; i <= 30; i++) {
      requests.add(send(i % 2 == 0 ? alice : bob, "m" + i, "message " + i));
    }
    List<ServerMessage> aliceSaw = collect(alice, 30, 15);
    List<ServerMessage> bobSaw = collect(bob, 30, 15);

    // Every member sees the same messages, as the same room events, in the order they were sent.
    List<ServerMessage> events = bobSaw.stream().filter(ServerMessage::hasChat).toList();
    assertThat(aliceSaw.stream().filter(ServerMessage::hasChat).toList()).isEqualTo(events);
    List<ChatMessage> messages = events.stream().map(ServerMessage::getChat).toList();
    assertThat(messages)
        .extracting(ChatMessage::getText)
        .containsExactlyElementsOf(
            IntStream.rangeClosed(1, 30).mapToObj(i -> "message " + i).toList());
    for (int i = 1; i < 30; i++) {
      assertThat(events.get(i).getSequence()).isEqualTo(events.get(i - 1).getSequence() + 1);
      assertThat(UUID.fromString(messages.get(i).getMessageId()).timestamp())
          .isGreaterThan(UUID.fromString(messages.get(i - 1).getMessageId()).timestamp());
    }
    ChatMessage first = messages.getFirst();
    assertThat(first.getRoomId()).isEqualTo(roomId);
    assertThat(first.getUserId()).isEqualTo("bob");
    assertThat(first.getDisplayName()).isEqualTo("Bob");
    assertThat(first.getClientMessageId()).isEqualTo("m1");
    assertThat(first.getSentAtMs()).isEqualTo(clock.millis());

    // Each sender is acknowledged with the stored message, after the room delivered it.
    for (int i = 1; i <= 30; i++) {
      List<ServerMessage> seen = i % 2 == 0 ? aliceSaw : bobSaw;
      String requestId = requests.get(i - 1);
      int ack =
          IntStream.range(0, seen.size())
              .filter(
                  j ->
                      seen.get(j).hasCommandResult()
                          && seen.get(j).getCommandResult().getRequestId().equals(requestId))
              .findFirst()
              .orElseThrow();
      assertThat(seen.get(ack).getCommandResult().getChatStored()).isEqualTo(messages.get(i - 1));
      assertThat(seen.indexOf(events.get(i - 1))).isLessThan(ack);
    }

    // History has them, newest first, as Cassandra stored them.
    ListChatHistoryResponse history =
        wp.chatAs("bob")
            .listChatHistory(ListChatHistoryRequest.newBuilder().setRoomId(roomId).build());
    assertThat(history.getMessagesList()).isEqualTo(messages.reversed());
    assertThat(history.getNextPageToken()).isEmpty();
  }

  /** A member's messages until it has seen {@code chats} chat events and {@code acks} results. */
  private static List<ServerMessage> collect(StreamProbe probe, int chats, int acks) {
    List<ServerMessage> seen = new ArrayList<>();
    int chatCount = 0;
    int ackCount = 0;
    while (chatCount < chats || ackCount < acks) {
      ServerMessage message = probe.next();
      seen.add(message);
      if (message.hasChat()) {
        chatCount++;
      } else if (message.hasCommandResult()) {
        assertThat(message.getCommandResult().hasChatStored()).as("%s", message).isTrue();
        ackCount++;
      }
    }
    return seen;
  }

  @Test
  void chatWorksOverChatServiceToo() {
    ChatMessage sent =
        wp.chatAs("bob").sendChat(ChatCalls.request(roomId, "unary-1", "from a browser"));

    assertThat(sent.getText()).isEqualTo("from a browser");
    assertThat(alice.skipTo(KindCase.CHAT).getChat()).isEqualTo(sent);
    assertThat(bob.skipTo(KindCase.CHAT).getChat()).isEqualTo(sent);
  }

  @Test
  void aRetriedSendIsStoredAndDeliveredOnce() {
    // Two copies in flight at once, then retries after the first was acknowledged.
    send(alice, "dup-1", "only once");
    send(alice, "dup-1", "only once");
    // Both answers come once the message is stored (in no particular order).
    List<ServerMessage> results = collect(alice, 1, 2);
    List<ChatMessage> acks =
        results.stream()
            .filter(ServerMessage::hasCommandResult)
            .map(m -> m.getCommandResult().getChatStored())
            .toList();
    ChatMessage original = acks.getFirst();
    assertThat(acks).containsExactly(original, original);
    assertThat(stored(alice, send(alice, "dup-1", "only once"))).isEqualTo(original);
    assertThat(wp.chatAs("alice").sendChat(ChatCalls.request(roomId, "dup-1", "only once")))
        .isEqualTo(original);

    // The same client id from another sender is another message.
    ChatMessage bobs = wp.chatAs("bob").sendChat(ChatCalls.request(roomId, "dup-1", "mine"));
    assertThat(bobs.getMessageId()).isNotEqualTo(original.getMessageId());

    List<ServerMessage> seen =
        bob.until(m -> m.hasChat() && m.getChat().getMessageId().equals(bobs.getMessageId()));
    assertThat(seen.stream().filter(ServerMessage::hasChat).map(ServerMessage::getChat))
        .containsExactly(original, bobs);
    assertThat(history(roomId, "alice")).containsExactly(bobs, original);
  }

  @Test
  void historySurvivesARestartAndARetryAfterItIsNotDeliveredAgain() {
    ChatMessage before = stored(alice, send(alice, "before-restart", "see you soon"));

    wp.restart();
    StreamProbe host = wp.connect("alice").join(roomId);
    Snapshot snapshot = host.snapshot();
    assertThat(snapshot.getRecentChatList()).containsExactly(before);
    StreamProbe viewer = wp.connect("bob").join(roomId);
    viewer.snapshot();

    // The client never saw the acknowledgement and retries on the new server.
    ChatMessage retried = stored(host, send(host, "before-restart", "see you soon"));
    assertThat(retried).isEqualTo(before);
    ChatMessage next = stored(host, send(host, "after-restart", "back"));
    assertThat(viewer.skipTo(KindCase.CHAT).getChat()).isEqualTo(next);
    assertThat(history(roomId, "bob")).containsExactly(next, before);
  }

  @Test
  void aJoinersSnapshotCarriesTheRecentMessagesOldestFirst() {
    List<ChatMessage> sent = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      sent.add(stored(bob, send(bob, "recent-" + i, "hello " + i)));
    }
    Snapshot snapshot = wp.connect("chiara").join(roomId).snapshot();
    assertThat(snapshot.getRecentChatList()).isEqualTo(sent);
    assertThat(snapshot.getSlowModeMs()).isZero();
  }

  @Test
  void historyPagesBackAcrossBucketsNewestFirst() {
    // One-minute buckets: messages 25 s apart, a three-hour silence, then a minute apart.
    long[] gapsMs = {0, 25_000, 25_000, 25_000, 3 * 3_600_000, 10_000, 61_000, 61_000, 1, 1};
    List<ChatMessage> sent = new ArrayList<>();
    for (int i = 0; i < gapsMs.length; i++) {
      clock.advance(Duration.ofMillis(gapsMs[i]));
      sent.add(stored(alice, send(alice, "page-" + i, "at " + i)));
    }
    long buckets =
        sent.stream()
            .mapToLong(m -> Math.floorDiv(m.getSentAtMs(), SETTINGS.bucket().toMillis()))
            .distinct()
            .count();
    assertThat(buckets).isGreaterThanOrEqualTo(5);

    List<ChatMessage> paged = new ArrayList<>();
    String token = "";
    int pages = 0;
    do {
      ListChatHistoryResponse page =
          wp.chatAs("bob")
              .listChatHistory(
                  ListChatHistoryRequest.newBuilder()
                      .setRoomId(roomId)
                      .setPageSize(3)
                      .setPageToken(token)
                      .build());
      assertThat(page.getMessagesCount()).isBetween(1, 3);
      paged.addAll(page.getMessagesList());
      token = page.getNextPageToken();
      pages++;
    } while (!token.isEmpty());
    assertThat(paged).isEqualTo(sent.reversed());
    assertThat(pages).isEqualTo(4);

    assertRefused(
        () ->
            wp.chatAs("bob")
                .listChatHistory(
                    ListChatHistoryRequest.newBuilder()
                        .setRoomId(roomId)
                        .setPageToken("not-a-token")
                        .build()),
        Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_PAGE_TOKEN);
    for (int size : new int[] {-1, 101}) {
      assertRefused(
          () ->
              wp.chatAs("bob")
                  .listChatHistory(
                      ListChatHistoryRequest.newBuilder()
                          .setRoomId(roomId)
                          .setPageSize(size)
                          .build()),
          Code.INVALID_ARGUMENT,
          ErrorReason.PAGE_SIZE_OUT_OF_RANGE);
    }
  }

  @Test
  void deletedMessagesDisappearForMembersAndFromHistory() {
    ChatMessage bobs = stored(bob, send(bob, "del-1", "oops, a spoiler"));
    ChatMessage kept = stored(bob, send(bob, "del-2", "no spoiler here"));
    ChatMessage hosts = stored(alice, send(alice, "del-3", "host speaking"));

    // A viewer cannot delete someone else's message.
    CommandResult refused = bob.resultOf(bob.command(ChatCalls.delete(hosts.getMessageId())));
    assertRejected(refused.getRejected(), Code.PERMISSION_DENIED, ErrorReason.NOT_HOST_OR_COHOST);

    // The author may.
    CommandResult deleted = bob.resultOf(bob.command(ChatCalls.delete(bobs.getMessageId())));
    ServerMessage event = alice.skipTo(KindCase.CHAT_DELETED);
    assertThat(event.getSequence()).isEqualTo(deleted.getAccepted().getSequence());
    assertThat(event.getChatDeleted().getMessageId()).isEqualTo(bobs.getMessageId());
    assertThat(event.getChatDeleted().getByUserId()).isEqualTo("bob");
    assertThat(history(roomId, "alice")).containsExactly(hosts, kept);
    Row row =
        wp.session()
            .execute(
                SimpleStatement.newInstance(
                    "SELECT text, deleted_by FROM chat_messages WHERE room_id = ? AND bucket = ?"
                        + " AND message_id = ?",
                    UUID.fromString(roomId),
                    Math.floorDiv(bobs.getSentAtMs(), 60_000L) * 60_000L,
                    UUID.fromString(bobs.getMessageId())))
            .one();
    assertThat(row.getString("text")).isEmpty();
    assertThat(row.getString("deleted_by")).isEqualTo("bob");

    // The host deletes a viewer's message, over the unary call.
    wp.as("alice")
        .sendCommand(
            SendCommandRequest.newBuilder()
                .setRoomId(roomId)
                .setCommand(ChatCalls.delete(kept.getMessageId()))
                .build());
    assertThat(bob.skipTo(KindCase.CHAT_DELETED).getChatDeleted().getMessageId())
        .isEqualTo(kept.getMessageId());
    assertThat(history(roomId, "bob")).containsExactly(hosts);
    assertThat(wp.connect("chiara").join(roomId).snapshot().getRecentChatList())
        .containsExactly(hosts);

    // Deleting again changes nothing; a retried send of it does not bring it back.
    assertThat(
            alice
                .resultOf(alice.command(ChatCalls.delete(kept.getMessageId())))
                .getAccepted()
                .getSequence())
        .isZero();
    assertThat(stored(bob, send(bob, "del-2", "no spoiler here")).getText()).isEmpty();
    assertThat(history(roomId, "bob")).containsExactly(hosts);

    assertRejected(
        alice.resultOf(alice.command(ChatCalls.delete(UUID.randomUUID().toString()))).getRejected(),
        Code.INVALID_ARGUMENT,
        ErrorReason.MALFORMED_ID);
    String unknown = new ChatIds().next(clock.millis()).toString();
    assertRejected(
        alice.resultOf(alice.command(ChatCalls.delete(unknown))).getRejected(),
        Code.NOT_FOUND,
        ErrorReason.MESSAGE_NOT_FOUND);
  }

  @Test
  void mutedUsersCannotPostUntilTheMuteEnds() {
    CommandResult muted = alice.resultOf(alice.command(ChatCalls.mute("bob", 60_000)));
    ServerMessage event = bob.skipTo(KindCase.USER_MUTED);
    assertThat(event.getSequence()).isEqualTo(muted.getAccepted().getSequence());
    assertThat(event.getUserMuted().getUserId()).isEqualTo("bob");
    assertThat(event.getUserMuted().getUntilMs()).isEqualTo(clock.millis() + 60_000);
    assertThat(event.getUserMuted().getByUserId()).isEqualTo("alice");

    ErrorInfo info =
        assertRejected(
            bob.resultOf(send(bob, "muted-1", "let me speak")).getRejected(),
            Code.PERMISSION_DENIED,
            ErrorReason.MUTED);
    assertThat(info.getMetadataMap())
        .containsEntry("until_ms", Long.toString(clock.millis() + 60_000));
    assertRefused(
        () -> wp.chatAs("bob").sendChat(ChatCalls.request(roomId, "muted-2", "please")),
        Code.PERMISSION_DENIED,
        ErrorReason.MUTED);
    assertRejected(
        bob.resultOf(ChatCalls.react(bob, "🔥")).getRejected(),
        Code.PERMISSION_DENIED,
        ErrorReason.MUTED);

    // Who may mute whom, and for how long.
    assertRejected(
        bob.resultOf(bob.command(ChatCalls.mute("alice", 60_000))).getRejected(),
        Code.PERMISSION_DENIED,
        ErrorReason.NOT_HOST_OR_COHOST);
    assertRejected(
        alice.resultOf(alice.command(ChatCalls.mute("alice", 60_000))).getRejected(),
        Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_TARGET);
    for (long duration : new long[] {999, 24 * 3_600_000L + 1, -5}) {
      assertRejected(
          alice.resultOf(alice.command(ChatCalls.mute("bob", duration))).getRejected(),
          Code.INVALID_ARGUMENT,
          ErrorReason.INVALID_SETTING);
    }

    // The mute ends by itself...
    clock.advance(Duration.ofMillis(60_000));
    ChatMessage free = stored(bob, send(bob, "muted-3", "free again"));
    assertThat(free.getText()).isEqualTo("free again");

    // ...or when lifted.
    alice.resultOf(alice.command(ChatCalls.mute("bob", 3_600_000)));
    assertRejected(
        bob.resultOf(send(bob, "muted-4", "hm")).getRejected(),
        Code.PERMISSION_DENIED,
        ErrorReason.MUTED);
    alice.resultOf(alice.command(ChatCalls.unmute("bob")));
    assertThat(
            bob.until(m -> m.hasUserMuted() && m.getUserMuted().getUntilMs() == 0)
                .getLast()
                .getUserMuted()
                .getByUserId())
        .isEqualTo("alice");
    assertThat(stored(bob, send(bob, "muted-5", "thanks")).getText()).isEqualTo("thanks");
  }

  @Test
  void aMuteSurvivesARestart() {
    alice.resultOf(alice.command(ChatCalls.mute("bob", 600_000)));
    wp.restart();
    StreamProbe viewer = wp.connect("bob").join(roomId);
    viewer.snapshot();
    assertRejected(
        viewer.resultOf(send(viewer, "after-restart", "still muted?")).getRejected(),
        Code.PERMISSION_DENIED,
        ErrorReason.MUTED);
  }

  @Test
  void slowModeHoldsViewersBackButNotTheHost() {
    CommandResult set = alice.resultOf(alice.command(ChatCalls.slowMode(10_000)));
    ServerMessage event = bob.skipTo(KindCase.SLOW_MODE_CHANGED);
    assertThat(event.getSequence()).isEqualTo(set.getAccepted().getSequence());
    assertThat(event.getSlowModeChanged().getSlowModeMs()).isEqualTo(10_000);
    assertThat(event.getSlowModeChanged().getByUserId()).isEqualTo("alice");

    stored(bob, send(bob, "slow-1", "first"));
    ErrorInfo info =
        assertRejected(
            bob.resultOf(send(bob, "slow-2", "second")).getRejected(),
            Code.RESOURCE_EXHAUSTED,
            ErrorReason.SLOW_MODE);
    assertThat(info.getMetadataMap()).containsEntry("retry_after_ms", "10000");
    clock.advance(Duration.ofMillis(4_000));
    ErrorInfo later =
        assertRefused(
            () -> wp.chatAs("bob").sendChat(ChatCalls.request(roomId, "slow-2", "second")),
            Code.RESOURCE_EXHAUSTED,
            ErrorReason.SLOW_MODE);
    assertThat(later.getMetadataMap()).containsEntry("retry_after_ms", "6000");
    // A retry of the message that went through is not a new message: no slow-mode refusal.
    stored(bob, send(bob, "slow-1", "first"));
    // The host is not slowed.
    stored(alice, send(alice, "slow-3", "host 1"));
    stored(alice, send(alice, "slow-4", "host 2"));

    clock.advance(Duration.ofMillis(6_000));
    stored(bob, send(bob, "slow-2", "second"));

    // The setting is part of the room: snapshots, descriptions, and a restart keep it.
    assertThat(wp.connect("chiara").join(roomId).snapshot().getSlowModeMs()).isEqualTo(10_000);
    wp.restart();
    assertThat(
            wp.as("bob")
                .getRoom(GetRoomRequest.newBuilder().setRoomId(roomId).build())
                .getSettings()
                .getSlowModeMs())
        .isEqualTo(10_000);
    StreamProbe host = wp.connect("alice").join(roomId);
    assertThat(host.snapshot().getSlowModeMs()).isEqualTo(10_000);

    assertRejected(
        host.resultOf(host.command(ChatCalls.slowMode(600_001))).getRejected(),
        Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_SETTING);
    StreamProbe viewer = wp.connect("bob").join(roomId);
    viewer.snapshot();
    assertRejected(
        viewer.resultOf(viewer.command(ChatCalls.slowMode(0))).getRejected(),
        Code.PERMISSION_DENIED,
        ErrorReason.NOT_HOST_OR_COHOST);
    host.resultOf(host.command(ChatCalls.slowMode(0)));
    stored(viewer, send(viewer, "slow-5", "a"));
    stored(viewer, send(viewer, "slow-6", "b"));
  }

  @Test
  void kickedBannedAndOutsideUsersCannotPost() {
    StreamProbe chiara = wp.connect("chiara").join(roomId);
    chiara.snapshot();

    alice.resultOf(alice.command(Commands.kick("bob")));
    bob.awaitEnd();
    assertRefused(
        () -> wp.chatAs("bob").sendChat(ChatCalls.request(roomId, "k-1", "still here?")),
        Code.FAILED_PRECONDITION,
        ErrorReason.NOT_JOINED);

    alice.resultOf(alice.command(Commands.ban("chiara")));
    chiara.awaitEnd();
    assertRefused(
        () -> wp.chatAs("chiara").sendChat(ChatCalls.request(roomId, "b-1", "let me in")),
        Code.PERMISSION_DENIED,
        ErrorReason.BANNED_FROM_ROOM);
    assertRefused(
        () ->
            wp.chatAs("chiara")
                .listChatHistory(ListChatHistoryRequest.newBuilder().setRoomId(roomId).build()),
        Code.PERMISSION_DENIED,
        ErrorReason.BANNED_FROM_ROOM);

    assertRefused(
        () -> wp.chatAs("emma").sendChat(ChatCalls.request(roomId, "o-1", "hi")),
        Code.FAILED_PRECONDITION,
        ErrorReason.NOT_JOINED);
    // A public room's history is open to subscribers; a private room's is not even confirmed.
    assertThat(history(roomId, "emma")).isEmpty();
    String privateRoom = wp.createRoom("alice", Visibility.PRIVATE).getRoom().getRoomId();
    assertRefused(
        () ->
            wp.chatAs("emma")
                .listChatHistory(
                    ListChatHistoryRequest.newBuilder().setRoomId(privateRoom).build()),
        Code.NOT_FOUND,
        ErrorReason.ROOM_NOT_FOUND);
    assertRefused(
        () -> wp.chatAs("emma").sendChat(ChatCalls.request(privateRoom, "o-2", "hi")),
        Code.NOT_FOUND,
        ErrorReason.ROOM_NOT_FOUND);
  }

  @Test
  void everyInvalidMessageIsRefusedWithItsReasonAndTheStreamCarriesOn() {
    record Case(String clientMessageId, String text, ErrorReason reason) {}
    List<Case> cases =
        List.of(
            new Case("v-1", "", ErrorReason.CHAT_TEXT_EMPTY),
            new Case("v-2", " \t \u00A0 ", ErrorReason.CHAT_TEXT_EMPTY),
            new Case("v-3", "x".repeat(501), ErrorReason.CHAT_TEXT_TOO_LONG),
            new Case("v-4", "two\nlines", ErrorReason.CHAT_TEXT_CONTROL_CHARACTERS),
            new Case("v-5", "nul\u0000", ErrorReason.CHAT_TEXT_CONTROL_CHARACTERS),
            new Case("v-6", "abc\u202Edcb", ErrorReason.CHAT_TEXT_CONTROL_CHARACTERS),
            new Case("", "no id", ErrorReason.FIELD_MISSING),
            new Case("not ok!", "bad id", ErrorReason.MALFORMED_ID));
    for (Case c : cases) {
      assertRejected(
          bob.resultOf(send(bob, c.clientMessageId(), c.text())).getRejected(),
          Code.INVALID_ARGUMENT,
          c.reason());
      assertRefused(
          () -> wp.chatAs("bob").sendChat(ChatCalls.request(roomId, c.clientMessageId(), c.text())),
          Code.INVALID_ARGUMENT,
          c.reason());
    }
    assertRejected(
        bob.resultOf(ChatCalls.react(bob, "🦄")).getRejected(),
        Code.INVALID_ARGUMENT,
        ErrorReason.UNKNOWN_EMOJI);

    // What is accepted is stored and delivered exactly as normalized: NFC, edges trimmed, and
    // markup left as the text it is.
    ChatMessage plain = stored(bob, send(bob, "v-ok", "  <b>Cafe\u0301</b> & <script>  "));
    assertThat(plain.getText()).isEqualTo("<b>Caf\u00E9</b> & <script>");
    assertThat(alice.skipTo(KindCase.CHAT).getChat()).isEqualTo(plain);
    assertThat(history(roomId, "alice")).containsExactly(plain);
    bob.ping(5);
    assertThat(bob.skipTo(KindCase.PONG).getPong().getClientSendTimeMs()).isEqualTo(5);
  }

  @Test
  void invalidUtf8IsRefusedOverTheStreamAndTheUnaryCall() throws Exception {
    var notUtf8 = com.google.protobuf.ByteString.copyFrom(new byte[] {'h', 'i', (byte) 0xE2});
    byte[] frame = RawRequests.clientMessageWithRawText("utf8-1", notUtf8);

    var responses = new java.util.concurrent.LinkedBlockingQueue<byte[]>();
    var stream =
        ChatCalls.rawConnect(
            wp,
            "chiara",
            new io.grpc.stub.StreamObserver<>() {
              @Override
              public void onNext(byte[] value) {
                responses.add(value);
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
    stream.onNext(
        io.watchparty.proto.v1.ClientMessage.newBuilder()
            .setJoin(io.watchparty.proto.v1.Join.newBuilder().setRoomId(roomId))
            .build()
            .toByteArray());
    stream.onNext(frame);
    stream.onNext(
        io.watchparty.proto.v1.ClientMessage.newBuilder()
            .setPing(io.watchparty.proto.v1.ClockPing.newBuilder().setClientSendTimeMs(9))
            .build()
            .toByteArray());
    List<ServerMessage> got = new ArrayList<>();
    while (got.isEmpty() || !got.getLast().hasPong()) {
      byte[] next = responses.poll(20, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(next).as("a reply within 20 s").isNotNull();
      got.add(ServerMessage.parseFrom(next));
    }
    CommandResult result =
        got.stream()
            .filter(ServerMessage::hasCommandResult)
            .findFirst()
            .orElseThrow()
            .getCommandResult();
    assertThat(result.getRequestId()).isEqualTo("utf8-1");
    assertRejected(result.getRejected(), Code.INVALID_ARGUMENT, ErrorReason.CHAT_TEXT_INVALID_UTF8);
    stream.onCompleted();

    var inner = new java.io.ByteArrayOutputStream();
    var chat = com.google.protobuf.CodedOutputStream.newInstance(inner);
    chat.writeString(1, "utf8-2");
    chat.writeBytes(2, notUtf8);
    chat.flush();
    var request = new java.io.ByteArrayOutputStream();
    var out = com.google.protobuf.CodedOutputStream.newInstance(request);
    out.writeString(1, roomId);
    out.writeBytes(2, com.google.protobuf.ByteString.copyFrom(inner.toByteArray()));
    out.flush();
    assertRefused(
        () -> ChatCalls.rawSendChat(wp, "bob", request.toByteArray()),
        Code.INVALID_ARGUMENT,
        ErrorReason.CHAT_TEXT_INVALID_UTF8);
    assertThat(history(roomId, "bob")).isEmpty();
  }

  @Test
  void reactionsOverChatServiceCountLikeStreamReactions() {
    wp.chatAs("bob")
        .react(
            ReactRequest.newBuilder()
                .setRoomId(roomId)
                .setReaction(React.newBuilder().setEmoji("🍿"))
                .build());
    assertThat(alice.skipTo(KindCase.REACTIONS).getReactions().getCountsMap())
        .containsExactly(java.util.Map.entry("🍿", 1L));
    assertRefused(
        () ->
            wp.chatAs("bob")
                .react(
                    ReactRequest.newBuilder()
                        .setRoomId(roomId)
                        .setReaction(React.newBuilder().setEmoji("🦄"))
                        .build()),
        Code.INVALID_ARGUMENT,
        ErrorReason.UNKNOWN_EMOJI);
    assertRefused(
        () ->
            wp.chatAs("emma")
                .react(
                    ReactRequest.newBuilder()
                        .setRoomId(roomId)
                        .setReaction(React.newBuilder().setEmoji("🍿"))
                        .build()),
        Code.FAILED_PRECONDITION,
        ErrorReason.NOT_JOINED);
  }

  @Test
  void reactionsAreCountedPerWindowNotDeliveredOneByOne() {
    List<StreamProbe> viewers = new ArrayList<>(List.of(alice, bob));
    for (String user : List.of("chiara", "emma", "farid", "gabriela", "hiro")) {
      StreamProbe viewer = wp.connect(user).join(roomId);
      viewer.snapshot();
      viewers.add(viewer);
    }
    List<String> emoji = ChatEmoji.ALLOWED;
    long started = System.nanoTime();
    int sent = 0;
    for (int round = 0; round < 60; round++) {
      for (StreamProbe viewer : viewers) {
        ChatCalls.react(viewer, emoji.get((round + sent) % emoji.size()));
        sent++;
      }
    }
    long sendingMs = (System.nanoTime() - started) / 1_000_000;

    long counted = 0;
    int events = 0;
    java.util.Map<String, Long> perEmoji = new java.util.HashMap<>();
    while (counted < sent) {
      ServerMessage reactions = bob.skipTo(KindCase.REACTIONS);
      events++;
      for (var entry : reactions.getReactions().getCountsMap().entrySet()) {
        counted += entry.getValue();
        perEmoji.merge(entry.getKey(), entry.getValue(), Long::sum);
      }
    }
    assertThat(counted).isEqualTo(sent);
    assertThat(perEmoji.keySet()).isSubsetOf(emoji);
    // One event per 250 ms window at most, however many reactions: 420 reactions, a few events.
    long windows = sendingMs / SETTINGS.reactionWindow().toMillis() + 2;
    assertThat(events).isLessThanOrEqualTo((int) windows).isLessThan(sent / 10);
  }

  @Test
  void cohostsModerateViewersButNotTheHost() {
    StreamProbe chiara = wp.connect("chiara").join(roomId);
    chiara.snapshot();
    alice.resultOf(alice.command(Commands.grantCohost("chiara")));
    assertThat(chiara.skipTo(KindCase.ROLE_CHANGED).getRoleChanged().getRole())
        .isEqualTo(Role.COHOST);

    ChatMessage hosts = stored(alice, send(alice, "co-1", "hello from the host"));
    ChatMessage bobs = stored(bob, send(bob, "co-2", "hello from bob"));
    assertRejected(
        chiara.resultOf(chiara.command(ChatCalls.delete(hosts.getMessageId()))).getRejected(),
        Code.PERMISSION_DENIED,
        ErrorReason.NOT_HOST);
    assertThat(
            chiara
                .resultOf(chiara.command(ChatCalls.delete(bobs.getMessageId())))
                .getAccepted()
                .getSequence())
        .isPositive();
    assertThat(
            chiara
                .resultOf(chiara.command(ChatCalls.mute("bob", 5_000)))
                .getAccepted()
                .getSequence())
        .isPositive();
    assertRejected(
        chiara.resultOf(chiara.command(ChatCalls.mute("alice", 5_000))).getRejected(),
        Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_TARGET);
  }

  private static List<ChatMessage> history(String roomId, String userId) {
    return wp.chatAs(userId)
        .listChatHistory(
            ListChatHistoryRequest.newBuilder().setRoomId(roomId).setPageSize(100).build())
        .getMessagesList();
  }
}
