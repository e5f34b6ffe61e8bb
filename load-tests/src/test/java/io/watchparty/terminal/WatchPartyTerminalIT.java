package io.watchparty.terminal;

import static org.assertj.core.api.Assertions.assertThat;

import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.testing.TestServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The terminal client against the real server in-process: what a user sees when refused. */
class WatchPartyTerminalIT {
  @RegisterExtension static final TestServer wp = TestServer.builder().realExecutors().build();

  private record Result(int code, String out, String err) {}

  private static Result run(String stdin, String... args) {
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    int code =
        WatchPartyTerminal.run(
            args,
            new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            target -> wp.newChannel());
    return new Result(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static String room(String titleId, Visibility visibility) {
    return wp.as("alice")
        .createRoom(
            CreateRoomRequest.newBuilder()
                .setTitleId(titleId)
                .setName("alice's party")
                .setSettings(RoomSettings.newBuilder().setVisibility(visibility))
                .build())
        .getRoom()
        .getRoomId();
  }

  @Test
  void aJoinFromARegionWithoutTheTitleIsRefusedInOneSentenceWithTheServersReason() {
    String roomId = room("agent-327", Visibility.PUBLIC); // not licensed in JP

    Result result = run("", "join", "--user", "hiro", "--room", roomId);

    assertThat(result.code()).isEqualTo(WatchPartyTerminal.REFUSED);
    assertThat(result.err().strip())
        .isEqualTo(
            "hiro cannot join room "
                + roomId
                + ": TITLE_NOT_AVAILABLE_IN_REGION: the title playing in this room is not"
                + " available in your region (JP).");
  }

  @Test
  void aPrivateRoomWithoutItsInviteIsRefusedAndAnUnknownDemoUserToo() {
    String roomId = room("sintel", Visibility.PRIVATE);

    Result noInvite = run("", "join", "--user", "bob", "--room", roomId);
    assertThat(noInvite.code()).isEqualTo(WatchPartyTerminal.REFUSED);
    assertThat(noInvite.err().strip())
        .startsWith("bob cannot join room " + roomId + ": INVITE_TOKEN_INVALID:")
        .doesNotContain("\n");

    Result nobody = run("", "join", "--user", "nobody-x", "--room", roomId);
    assertThat(nobody.code()).isEqualTo(WatchPartyTerminal.REFUSED);
    assertThat(nobody.err().strip())
        .isEqualTo("The server refused: NOT_FOUND: no demo user 'nobody-x'.");
  }

  /** The same client over a real loopback port, through its own Netty channels. */
  @org.junit.jupiter.api.Nested
  class OverLoopback {
    @RegisterExtension static final TestServer real = TestServer.builder().overLoopback().build();

    @Test
    void createListAndJoinOverTheNetworkAndARefusedJoinExitsWithItsReason() {
      var out = new ByteArrayOutputStream();
      var err = new ByteArrayOutputStream();
      String[] create = {
        "create", "--server", real.target(), "--user", "alice", "--title", "agent-327", "--public"
      };
      assertThat(runOverNetwork(create, "", out, err)).isZero();
      String roomId = out.toString(StandardCharsets.UTF_8).lines().findFirst().orElseThrow();
      roomId = roomId.substring("room id: ".length());

      out.reset();
      String[] rooms = {"rooms", "--server", real.target(), "--user", "hiro"};
      assertThat(runOverNetwork(rooms, "", out, err)).isZero();
      assertThat(out.toString(StandardCharsets.UTF_8))
          .contains(roomId)
          .contains("not available here");

      String[] join = {"join", "--server", real.target(), "--user", "hiro", "--room", roomId};
      assertThat(runOverNetwork(join, "", out, err)).isEqualTo(WatchPartyTerminal.REFUSED);
      assertThat(err.toString(StandardCharsets.UTF_8).strip())
          .startsWith("hiro cannot join room " + roomId + ": TITLE_NOT_AVAILABLE_IN_REGION:");
    }

    private static int runOverNetwork(
        String[] args, String stdin, ByteArrayOutputStream out, ByteArrayOutputStream err) {
      return WatchPartyTerminal.run(
          args,
          new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
          new PrintStream(out, true, StandardCharsets.UTF_8),
          new PrintStream(err, true, StandardCharsets.UTF_8));
    }
  }

  @Test
  void aMemberJoinsSeesTheStatusAndQuitsWhenStandardInputEnds() {
    String roomId = room("sintel", Visibility.PUBLIC);

    Result result =
        run("say hello from the terminal\nquit\n", "join", "--user", "bob", "--room", roomId);

    assertThat(result.code()).isZero();
    assertThat(result.err()).isEmpty();
    assertThat(result.out()).contains("hello from the terminal");
  }
}
