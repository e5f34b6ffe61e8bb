package io.watchparty.server.rpc;

import static io.watchparty.server.testing.Refusals.assertRefused;
import static io.watchparty.server.testing.Refusals.assertRejected;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.grpc.Status;
import io.grpc.Status.Code;
import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.CommandAccepted;
import io.watchparty.proto.v1.CommandResult;
import io.watchparty.proto.v1.CreateRoomResponse;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.GetRoomRequest;
import io.watchparty.proto.v1.HostLeavePolicy;
import io.watchparty.proto.v1.Member;
import io.watchparty.proto.v1.MemberLeft;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.RoleChanged;
import io.watchparty.proto.v1.RoomInfo;
import io.watchparty.proto.v1.RotateInviteRequest;
import io.watchparty.proto.v1.SendCommandRequest;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.ServerMessage.KindCase;
import io.watchparty.proto.v1.Snapshot;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.Commands;
import io.watchparty.server.testing.StreamProbe;
import io.watchparty.server.testing.TestServer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Host, co-hosts and viewers: granting, transferring, kicking, banning, leaving. */
class RolesIT {
  @RegisterExtension static final TestServer wp = TestServer.builder().build();

  @Test
  void joinerGetsASnapshotThatIncludesThemThenOnlyLaterEvents() {
    String roomId = wp.createRoom("alice", Visibility.PUBLIC).getRoom().getRoomId();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();

    StreamProbe bob = wp.connect("bob").join(roomId);

    ServerMessage snapshot = bob.next(KindCase.SNAPSHOT);
    ServerMessage joined = alice.next(KindCase.MEMBER_JOINED);
    assertThat(joined.getMemberJoined().getMember())
        .isEqualTo(
            Member.newBuilder()
                .setUserId("bob")
                .setDisplayName("Bob")
                .setRole(Role.VIEWER)
                .setConnected(true)
                .build());
    assertThat(snapshot.getSequence()).isEqualTo(joined.getSequence());
    assertThat(snapshot.getSnapshot().getMembersList())
        .extracting(Member::getUserId, Member::getRole, Member::getConnected)
        .containsExactly(tuple("alice", Role.HOST, true), tuple("bob", Role.VIEWER, true));
    assertThat(snapshot.getSnapshot().getMemberCount()).isEqualTo(2);
    assertThat(snapshot.getSnapshot().getRoom().getMemberCount()).isEqualTo(2);

    long played = alice.resultOf(alice.command(Commands.play())).getAccepted().getSequence();
    ServerMessage first = bob.next();
    assertThat(first.getKindCase()).isEqualTo(KindCase.PLAYBACK_CHANGED);
    assertThat(first.getSequence()).isEqualTo(played).isEqualTo(joined.getSequence() + 1);
  }

  @Test
  void grantedCohostControlsPlaybackUntilRevoked() {
    Party party = party(Visibility.PUBLIC, HostLeavePolicy.TRANSFER_HOST);

    assertRejected(
        party.bob.resultOf(party.bob.command(Commands.play())).getRejected(),
        Code.PERMISSION_DENIED,
        ErrorReason.NOT_HOST_OR_COHOST);
    CommandAccepted granted =
        party.alice.resultOf(party.alice.command(Commands.grantCohost("bob"))).getAccepted();

    for (StreamProbe member : List.of(party.bob, party.chiara)) {
      ServerMessage changed = member.skipTo(KindCase.ROLE_CHANGED);
      assertThat(changed.getSequence()).isEqualTo(granted.getSequence());
      assertThat(changed.getRoleChanged())
          .isEqualTo(
              RoleChanged.newBuilder()
                  .setUserId("bob")
                  .setRole(Role.COHOST)
                  .setByUserId("alice")
                  .build());
    }
    CommandAccepted played = party.bob.resultOf(party.bob.command(Commands.play())).getAccepted();
    ServerMessage seen = party.chiara.next(KindCase.PLAYBACK_CHANGED);
    assertThat(seen.getSequence()).isEqualTo(played.getSequence());
    assertThat(seen.getPlaybackChanged().getByUserId()).isEqualTo("bob");
    // Only the host hands out roles.
    assertRejected(
        party.bob.resultOf(party.bob.command(Commands.grantCohost("chiara"))).getRejected(),
        Code.PERMISSION_DENIED,
        ErrorReason.NOT_HOST);
    assertRejected(
        party.alice.resultOf(party.alice.command(Commands.grantCohost("hiro"))).getRejected(),
        Code.NOT_FOUND,
        ErrorReason.MEMBER_NOT_FOUND);
    assertRejected(
        party.alice.resultOf(party.alice.command(Commands.grantCohost("no body"))).getRejected(),
        Code.INVALID_ARGUMENT,
        ErrorReason.MALFORMED_ID);

    party.alice.resultOf(party.alice.command(Commands.revokeCohost("bob")));
    RoleChanged revoked = party.chiara.skipTo(KindCase.ROLE_CHANGED).getRoleChanged();
    assertThat(revoked.getUserId()).isEqualTo("bob");
    assertThat(revoked.getRole()).isEqualTo(Role.VIEWER);
    assertRefused(
        () -> wp.as("bob").sendCommand(send(party.roomId, Commands.pause())),
        Code.PERMISSION_DENIED,
        ErrorReason.NOT_HOST_OR_COHOST);
  }

  @Test
  void hostHandsTheHostRoleOverAndStaysCohost() {
    Party party = party(Visibility.PRIVATE, HostLeavePolicy.TRANSFER_HOST);

    CommandAccepted transferred =
        party.alice.resultOf(party.alice.command(Commands.transferHost("bob"))).getAccepted();

    List<ServerMessage> seen =
        party.chiara.until(m -> m.getSequence() == transferred.getSequence());
    assertThat(seen)
        .filteredOn(ServerMessage::hasRoleChanged)
        .extracting(
            m -> m.getRoleChanged().getUserId(),
            m -> m.getRoleChanged().getRole(),
            m -> m.getRoleChanged().getByUserId())
        .containsExactly(tuple("bob", Role.HOST, "alice"), tuple("alice", Role.COHOST, "alice"));
    RoomInfo info =
        wp.as("chiara").getRoom(GetRoomRequest.newBuilder().setRoomId(party.roomId).build());
    assertThat(info.getHostUserId()).isEqualTo("bob");
    assertThat(info.getHostDisplayName()).isEqualTo("Bob");

    RotateInviteRequest rotate = RotateInviteRequest.newBuilder().setRoomId(party.roomId).build();
    assertRefused(
        () -> wp.as("alice").rotateInvite(rotate), Code.PERMISSION_DENIED, ErrorReason.NOT_HOST);
    assertThat(wp.as("bob").rotateInvite(rotate).getInviteToken()).hasSize(22);
    assertThat(wp.as("alice").sendCommand(send(party.roomId, Commands.play())).getSequence())
        .isPositive();
    Snapshot aliceAgain = wp.connect("alice").join(party.roomId).snapshot();
    assertThat(aliceAgain.getYourRole()).isEqualTo(Role.COHOST);
  }

  @Test
  void kickedMemberIsRemovedAndTheOthersAreTold() {
    Party party = party(Visibility.PRIVATE, HostLeavePolicy.TRANSFER_HOST);

    assertRejected(
        party.chiara.resultOf(party.chiara.command(Commands.kick("bob"))).getRejected(),
        Code.PERMISSION_DENIED,
        ErrorReason.NOT_HOST_OR_COHOST);
    assertRejected(
        party.alice.resultOf(party.alice.command(Commands.kick("alice"))).getRejected(),
        Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_TARGET);
    CommandAccepted kicked =
        party.alice.resultOf(party.alice.command(Commands.kick("bob"))).getAccepted();

    assertThat(
            party
                .bob
                .awaitRefusal(Code.PERMISSION_DENIED, ErrorReason.KICKED_FROM_ROOM)
                .getMetadataMap())
        .containsEntry("room_id", party.roomId);
    ServerMessage left = party.chiara.skipTo(KindCase.MEMBER_LEFT);
    assertThat(left.getSequence()).isEqualTo(kicked.getSequence());
    assertThat(left.getMemberLeft())
        .isEqualTo(
            MemberLeft.newBuilder().setUserId("bob").setReason(MemberLeft.Reason.KICKED).build());
    assertThat(wp.as("alice").getRoom(get(party.roomId)).getMemberCount()).isEqualTo(2);

    // A kick is not a ban: with the invite, Bob may come back.
    assertThat(wp.connect("bob").join(party.roomId, party.invite).snapshot().getYourRole())
        .isEqualTo(Role.VIEWER);
  }

  @Test
  void onlyMembersCommandTheRoomSoAKickedCohostLosesControl() {
    Party party = party(Visibility.PUBLIC, HostLeavePolicy.TRANSFER_HOST);
    party.alice.resultOf(party.alice.command(Commands.grantCohost("bob")));
    assertThat(wp.as("bob").sendCommand(send(party.roomId, Commands.play())).getSequence())
        .isPositive();

    party.alice.resultOf(party.alice.command(Commands.kick("bob")));
    party.bob.awaitRefusal(Code.PERMISSION_DENIED, ErrorReason.KICKED_FROM_ROOM);

    assertRefused(
        () -> wp.as("bob").sendCommand(send(party.roomId, Commands.pause())),
        Code.FAILED_PRECONDITION,
        ErrorReason.NOT_JOINED);
    // Nor does a host who has not joined: SendCommand is for members without a stream of their own.
    String elsewhere = wp.createRoom("hiro", Visibility.PUBLIC).getRoom().getRoomId();
    assertRefused(
        () -> wp.as("hiro").sendCommand(send(elsewhere, Commands.play())),
        Code.FAILED_PRECONDITION,
        ErrorReason.NOT_JOINED);
  }

  @Test
  void bannedUserCannotComeBackEvenThroughANewInvite() {
    Party party = party(Visibility.PRIVATE, HostLeavePolicy.TRANSFER_HOST);
    party.alice.resultOf(party.alice.command(Commands.grantCohost("chiara")));

    // A co-host may ban a viewer.
    CommandAccepted banned =
        party.chiara.resultOf(party.chiara.command(Commands.ban("bob"))).getAccepted();

    party.bob.awaitRefusal(Code.PERMISSION_DENIED, ErrorReason.BANNED_FROM_ROOM);
    ServerMessage left = party.alice.skipTo(KindCase.MEMBER_LEFT);
    assertThat(left.getSequence()).isEqualTo(banned.getSequence());
    assertThat(left.getMemberLeft().getUserId()).isEqualTo("bob");
    assertThat(left.getMemberLeft().getReason()).isEqualTo(MemberLeft.Reason.BANNED);

    wp.connect("bob")
        .join(party.roomId, party.invite)
        .awaitRefusal(Code.PERMISSION_DENIED, ErrorReason.BANNED_FROM_ROOM);
    String newInvite =
        wp.as("alice")
            .rotateInvite(RotateInviteRequest.newBuilder().setRoomId(party.roomId).build())
            .getInviteToken();
    wp.connect("bob")
        .join(party.roomId, newInvite)
        .awaitRefusal(Code.PERMISSION_DENIED, ErrorReason.BANNED_FROM_ROOM);

    // Someone who never joined can be banned ahead; only the host may remove a co-host.
    party.alice.resultOf(party.alice.command(Commands.ban("hiro")));
    wp.connect("hiro")
        .join(party.roomId, newInvite)
        .awaitRefusal(Code.PERMISSION_DENIED, ErrorReason.BANNED_FROM_ROOM);
    assertRejected(
        party.chiara.resultOf(party.chiara.command(Commands.ban("alice"))).getRejected(),
        Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_TARGET);

    party.alice.resultOf(party.alice.command(Commands.unban("bob")));
    assertThat(wp.connect("bob").join(party.roomId, newInvite).snapshot().getYourRole())
        .isEqualTo(Role.VIEWER);
  }

  @Test
  void hostLeavingARoomThatEndsWithTheHostClosesIt() {
    Party party = party(Visibility.PUBLIC, HostLeavePolicy.END_ROOM);

    party.alice.leave();

    for (StreamProbe member : List.of(party.bob, party.chiara)) {
      List<ServerMessage> seen = member.until(ServerMessage::hasRoomClosed);
      assertThat(seen.getLast().getRoomClosed().getReason()).isEqualTo("HOST_LEFT");
      assertThat(seen)
          .filteredOn(ServerMessage::hasMemberLeft)
          .extracting(m -> m.getMemberLeft().getUserId(), m -> m.getMemberLeft().getReason())
          .containsExactly(tuple("alice", MemberLeft.Reason.LEFT));
      assertThat(member.awaitEnd().getCode()).isEqualTo(Status.Code.OK);
    }
    assertThat(party.alice.awaitEnd().getCode()).isEqualTo(Status.Code.OK);

    assertThat(wp.as("bob").getRoom(get(party.roomId)).getClosed()).isTrue();
    wp.connect("hiro")
        .join(party.roomId)
        .awaitRefusal(Code.FAILED_PRECONDITION, ErrorReason.ROOM_CLOSED);
    wp.connect("alice")
        .join(party.roomId)
        .awaitRefusal(Code.FAILED_PRECONDITION, ErrorReason.ROOM_CLOSED);
    assertRefused(
        () -> wp.as("alice").sendCommand(send(party.roomId, Commands.play())),
        Code.FAILED_PRECONDITION,
        ErrorReason.ROOM_CLOSED);
  }

  @Test
  void hostLeavingARoomThatCarriesOnMakesTheCohostHost() {
    // Bob joined before Chiara, but Chiara is the co-host: she comes first.
    Party party = party(Visibility.PUBLIC, HostLeavePolicy.TRANSFER_HOST);
    party.alice.resultOf(party.alice.command(Commands.grantCohost("chiara")));

    party.alice.leave();

    assertThat(party.alice.awaitEnd().getCode()).isEqualTo(Status.Code.OK);
    List<ServerMessage> seen =
        party.bob.until(m -> m.hasRoleChanged() && m.getRoleChanged().getRole() == Role.HOST);
    assertThat(seen)
        .filteredOn(ServerMessage::hasMemberLeft)
        .extracting(m -> m.getMemberLeft().getUserId(), m -> m.getMemberLeft().getReason())
        .containsExactly(tuple("alice", MemberLeft.Reason.LEFT));
    assertThat(seen.getLast().getRoleChanged().getUserId()).isEqualTo("chiara");
    assertThat(wp.as("bob").getRoom(get(party.roomId)).getHostUserId()).isEqualTo("chiara");
    CommandResult byChiara = party.chiara.resultOf(party.chiara.command(Commands.kick("bob")));
    assertThat(byChiara.hasAccepted()).isTrue();
  }

  /** Alice hosts, Bob and then Chiara watch; every stream has read its joins. */
  private static Party party(Visibility visibility, HostLeavePolicy policy) {
    CreateRoomResponse created = wp.createRoom("alice", visibility, policy);
    String roomId = created.getRoom().getRoomId();
    String invite = created.getInviteToken();
    StreamProbe alice = wp.connect("alice").join(roomId);
    alice.snapshot();
    StreamProbe bob = wp.connect("bob").join(roomId, invite);
    bob.snapshot();
    StreamProbe chiara = wp.connect("chiara").join(roomId, invite);
    chiara.snapshot();
    assertThat(alice.next(KindCase.MEMBER_JOINED).getMemberJoined().getMember().getUserId())
        .isEqualTo("bob");
    assertThat(alice.next(KindCase.MEMBER_JOINED).getMemberJoined().getMember().getUserId())
        .isEqualTo("chiara");
    assertThat(bob.next(KindCase.MEMBER_JOINED).getMemberJoined().getMember().getUserId())
        .isEqualTo("chiara");
    return new Party(roomId, invite, alice, bob, chiara);
  }

  private record Party(
      String roomId, String invite, StreamProbe alice, StreamProbe bob, StreamProbe chiara) {}

  private static GetRoomRequest get(String roomId) {
    return GetRoomRequest.newBuilder().setRoomId(roomId).build();
  }

  private static SendCommandRequest send(String roomId, Command command) {
    return SendCommandRequest.newBuilder().setRoomId(roomId).setCommand(command).build();
  }
}
