package io.watchparty.server.rpc;

import static io.watchparty.server.testing.Refusals.assertRefused;
import static io.watchparty.server.testing.Refusals.assertRejected;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status.Code;
import io.watchparty.proto.v1.AuthorizeViewerRequest;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.ClockPing;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.GetRoomRequest;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.MemberLeft;
import io.watchparty.proto.v1.RelayAudience;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.SendChat;
import io.watchparty.proto.v1.SendChatRequest;
import io.watchparty.proto.v1.SendCommandRequest;
import io.watchparty.proto.v1.ServerMessage.KindCase;
import io.watchparty.proto.v1.ViewerGrant;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.room.Room;
import io.watchparty.server.testing.Commands;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.util.List;
import java.util.stream.IntStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A relay (the web bridge) is a subscriber of its own kind: it joins with its relay account, the
 * server authorizes each viewer it serves under that viewer's token, and the viewers it names are
 * present in the room (counted, allowed to chat) until they are removed, kicked or banned.
 */
class RelayIT {
  @RegisterExtension static final TestServer wp = TestServer.builder().build();

  private static StreamProbe joinAsRelay(String roomId) {
    StreamProbe relay = wp.connect("web-bridge");
    relay.send(
        ClientMessage.newBuilder()
            .setJoin(Join.newBuilder().setRoomId(roomId).setAsRelay(true))
            .build());
    relay.snapshot();
    return relay;
  }

  private static void audience(
      StreamProbe relay, long count, List<String> added, List<String> removed) {
    relay.send(
        ClientMessage.newBuilder()
            .setRequestId("audience-" + count)
            .setRelayAudience(
                RelayAudience.newBuilder()
                    .setViewerCount(count)
                    .addAllAddedUserIds(added)
                    .addAllRemovedUserIds(removed))
            .build());
  }

  private static AuthorizeViewerRequest authorize(String roomId, String invite) {
    return AuthorizeViewerRequest.newBuilder().setRoomId(roomId).setInviteToken(invite).build();
  }

  private static SendChatRequest chat(String roomId, String id, String text) {
    return SendChatRequest.newBuilder()
        .setRoomId(roomId)
        .setMessage(SendChat.newBuilder().setClientMessageId(id).setText(text))
        .build();
  }

  @Test
  void viewersAreAuthorizedUnderTheirOwnTokensByTheRulesOfAJoin() {
    var created = wp.createRoom("alice", Visibility.PRIVATE);
    String roomId = created.getRoom().getRoomId();
    String invite = created.getInviteToken();

    ViewerGrant bob = wp.as("bob").authorizeViewer(authorize(roomId, invite));
    assertThat(bob.getRole()).isEqualTo(Role.VIEWER);
    assertThat(bob.getRoom().getRoomId()).isEqualTo(roomId);
    assertThat(bob.getRoom().getCanWatch()).isTrue();
    assertThat(wp.as("alice").authorizeViewer(authorize(roomId, "")).getRole())
        .isEqualTo(Role.HOST);

    assertRefused(
        () -> wp.as("bob").authorizeViewer(authorize(roomId, "not-the-invite")),
        Code.PERMISSION_DENIED,
        ErrorReason.INVITE_TOKEN_INVALID);
    assertRefused(
        () -> wp.as("dmitri").authorizeViewer(authorize(roomId, invite)),
        Code.PERMISSION_DENIED,
        ErrorReason.SUBSCRIPTION_INACTIVE);

    String metropolis =
        wp.as("alice")
            .createRoom(
                CreateRoomRequest.newBuilder()
                    .setTitleId("metropolis")
                    .setName("Metropolis")
                    .setSettings(RoomSettings.newBuilder().setVisibility(Visibility.PUBLIC))
                    .build())
            .getRoom()
            .getRoomId();
    assertRefused(
        () -> wp.as("hiro").authorizeViewer(authorize(metropolis, "")),
        Code.FAILED_PRECONDITION,
        ErrorReason.TITLE_NOT_AVAILABLE_IN_REGION);
  }

  @Test
  void onlyRelayAccountsJoinAsRelays() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe impostor = wp.connect("bob");
    impostor.send(
        ClientMessage.newBuilder()
            .setJoin(Join.newBuilder().setRoomId(roomId).setAsRelay(true))
            .build());
    impostor.awaitRefusal(Code.PERMISSION_DENIED, ErrorReason.NOT_A_RELAY);
  }

  @Test
  void aRelayAccountNeverActsAsAViewer() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    var relay = wp.as("web-bridge");

    for (var call :
        List.<ThrowingCallable>of(
            () ->
                relay.createRoom(
                    CreateRoomRequest.newBuilder()
                        .setTitleId("sintel")
                        .setName("Relayed")
                        .setSettings(RoomSettings.newBuilder().setVisibility(Visibility.PUBLIC))
                        .build()),
            () -> relay.getRoom(GetRoomRequest.newBuilder().setRoomId(roomId).build()),
            () -> relay.authorizeViewer(authorize(roomId, "")),
            () ->
                relay.sendCommand(
                    SendCommandRequest.newBuilder()
                        .setRoomId(roomId)
                        .setCommand(Commands.play())
                        .build()),
            () ->
                wp.chatAs("web-bridge")
                    .sendChat(
                        SendChatRequest.newBuilder()
                            .setRoomId(roomId)
                            .setMessage(
                                SendChat.newBuilder().setClientMessageId("r-1").setText("hi"))
                            .build()))) {
      assertRefused(call, Code.PERMISSION_DENIED, ErrorReason.NOT_A_VIEWER);
    }
    StreamProbe asViewer = wp.connect("web-bridge").join(roomId);
    asViewer.awaitRefusal(Code.PERMISSION_DENIED, ErrorReason.NOT_A_VIEWER);

    // What it is for still works: the clock, and relaying the room.
    assertThat(relay.getServerTime(ClockPing.getDefaultInstance()).getServerSendTimeMs())
        .isPositive();
    joinAsRelay(roomId);
  }

  @Test
  void membersCountPeopleNotTabsOrDevices() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    StreamProbe relay = joinAsRelay(roomId);

    // bob in two tabs, and alice (a member by stream) in a browser tab too: 4 tabs, 2 people.
    audience(relay, 4, List.of("bob", "bob", "alice"), List.of());
    assertThat(memberCountOnceApplied(relay, roomId)).isEqualTo(2);

    audience(relay, 3, List.of(), List.of("bob")); // one of bob's tabs closes: he is still here
    assertThat(memberCountOnceApplied(relay, roomId)).isEqualTo(2);
  }

  /** The room's member count once the relay's reports so far are applied (a ping answered). */
  private static long memberCountOnceApplied(StreamProbe relay, String roomId) {
    relay.send(ClientMessage.newBuilder().setPing(ClockPing.getDefaultInstance()).build());
    relay.skipTo(KindCase.PONG);
    return wp.as("alice")
        .getRoom(GetRoomRequest.newBuilder().setRoomId(roomId).build())
        .getMemberCount();
  }

  @Test
  void relayedViewersAreCountedAndMayChatButNotCommand() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    StreamProbe relay = joinAsRelay(roomId);

    assertRefused(
        () -> wp.chatAs("bob").sendChat(chat(roomId, "b-0", "before the relay names me")),
        Code.FAILED_PRECONDITION,
        ErrorReason.NOT_JOINED);

    audience(relay, 2, List.of("bob", "chiara"), List.of());
    assertThat(alice.skipTo(KindCase.PRESENCE).getPresence().getMemberCount()).isEqualTo(3);
    assertThat(
            wp.as("alice")
                .getRoom(GetRoomRequest.newBuilder().setRoomId(roomId).build())
                .getMemberCount())
        .isEqualTo(3);

    assertThat(wp.chatAs("bob").sendChat(chat(roomId, "b-1", "hello from a browser")).getText())
        .isEqualTo("hello from a browser");
    assertThat(relay.skipTo(KindCase.CHAT).getChat().getUserId()).isEqualTo("bob");
    assertRefused(
        () ->
            wp.as("bob")
                .sendCommand(
                    SendCommandRequest.newBuilder()
                        .setRoomId(roomId)
                        .setCommand(Commands.play())
                        .build()),
        Code.PERMISSION_DENIED,
        ErrorReason.NOT_HOST_OR_COHOST);
    assertRefused(
        () -> wp.chatAs("emma").sendChat(chat(roomId, "e-1", "not served by anyone")),
        Code.FAILED_PRECONDITION,
        ErrorReason.NOT_JOINED);

    audience(relay, 1, List.of(), List.of("chiara"));
    assertThat(alice.skipTo(KindCase.PRESENCE).getPresence().getMemberCount()).isEqualTo(2);
    assertRefused(
        () -> wp.chatAs("chiara").sendChat(chat(roomId, "c-1", "gone")),
        Code.FAILED_PRECONDITION,
        ErrorReason.NOT_JOINED);
  }

  @Test
  void aKickedOrBannedRelayedViewerLosesTheRoomAndTheRelayIsTold() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    StreamProbe relay = joinAsRelay(roomId);
    audience(relay, 2, List.of("bob", "chiara"), List.of());
    alice.skipTo(KindCase.PRESENCE);

    alice.resultOf(alice.command(Commands.kick("bob")));
    MemberLeft kicked = relay.skipTo(KindCase.MEMBER_LEFT).getMemberLeft();
    assertThat(kicked.getUserId()).isEqualTo("bob");
    assertThat(kicked.getReason()).isEqualTo(MemberLeft.Reason.KICKED);
    assertRefused(
        () -> wp.chatAs("bob").sendChat(chat(roomId, "b-2", "still here?")),
        Code.FAILED_PRECONDITION,
        ErrorReason.NOT_JOINED);

    alice.resultOf(alice.command(Commands.ban("chiara")));
    MemberLeft banned = relay.skipTo(KindCase.MEMBER_LEFT).getMemberLeft();
    assertThat(banned.getUserId()).isEqualTo("chiara");
    assertThat(banned.getReason()).isEqualTo(MemberLeft.Reason.BANNED);
    assertRefused(
        () -> wp.as("chiara").authorizeViewer(authorize(roomId, "")),
        Code.PERMISSION_DENIED,
        ErrorReason.BANNED_FROM_ROOM);

    // A relay that names a banned viewer anyway is refused, and the stream carries on.
    audience(relay, 1, List.of("chiara"), List.of());
    assertRejected(
        relay.resultOf("audience-1").getRejected(),
        Code.PERMISSION_DENIED,
        ErrorReason.BANNED_FROM_ROOM);
    audience(relay, 2, List.of("emma"), List.of());
    assertThat(wp.chatAs("emma").sendChat(chat(roomId, "e-2", "I am in")).getUserId())
        .isEqualTo("emma");
  }

  @Test
  void aRelayedViewerIsNamedInTheGrantAndMayBeMadeCoHost() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    ViewerGrant grant = wp.as("bob").authorizeViewer(authorize(roomId, ""));
    assertThat(grant.getUserId()).isEqualTo("bob");
    assertThat(grant.getDisplayName()).isEqualTo("Bob");
    StreamProbe relay = joinAsRelay(roomId);
    audience(relay, 1, List.of("bob"), List.of());
    alice.skipTo(KindCase.PRESENCE);

    alice.resultOf(alice.command(Commands.grantCohost("bob")));
    assertThat(relay.skipTo(KindCase.ROLE_CHANGED).getRoleChanged().getRole())
        .isEqualTo(Role.COHOST);
    assertThat(
            wp.as("bob")
                .sendCommand(
                    SendCommandRequest.newBuilder()
                        .setRoomId(roomId)
                        .setCommand(Commands.play())
                        .build())
                .getSequence())
        .isPositive();
  }

  @Test
  void onlyRelaysReportAnAudience() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe bob = wp.connect("bob").join(roomId);
    bob.snapshot();
    audience(bob, 5, List.of("chiara"), List.of());
    assertRejected(
        bob.resultOf("audience-5").getRejected(), Code.PERMISSION_DENIED, ErrorReason.NOT_A_RELAY);
  }

  @Test
  void oneAudienceMessageNamesAtMostAThousandViewers() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe relay = joinAsRelay(roomId);
    List<String> tooMany =
        IntStream.rangeClosed(1, Room.MAX_AUDIENCE_CHANGE + 1)
            .mapToObj(i -> "viewer-" + i)
            .toList();

    // Refused whole, before any viewer is counted: one message cannot stall the room.
    audience(relay, tooMany.size(), tooMany, List.of());
    assertRejected(
        relay.resultOf("audience-" + tooMany.size()).getRejected(),
        Code.INVALID_ARGUMENT,
        ErrorReason.AUDIENCE_TOO_LARGE);
    assertThat(memberCountOnceApplied(relay, roomId)).isZero();

    // As many as allowed are counted; the relay stream serves on.
    List<String> allowed = tooMany.subList(0, Room.MAX_AUDIENCE_CHANGE);
    audience(relay, allowed.size(), allowed, List.of());
    assertThat(memberCountOnceApplied(relay, roomId)).isEqualTo(Room.MAX_AUDIENCE_CHANGE);
  }
}
