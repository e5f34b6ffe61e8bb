package io.watchparty.terminal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class WatchPartyTerminalTest {
  private record Result(int code, String out, String err) {}

  private static Result run(String... args) {
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    int code =
        WatchPartyTerminal.run(
            args,
            new ByteArrayInputStream(new byte[0]),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static void assertUsageError(Result result, String mentions) {
    assertThat(result.code()).isEqualTo(WatchPartyTerminal.USAGE);
    assertThat(result.out()).isEmpty();
    assertThat(result.err().strip()).contains(mentions).doesNotContain("\n").endsWith("--help'.");
  }

  @Test
  void noSubcommandIsAUsageErrorInOneSentence() {
    assertUsageError(run(), "Missing required subcommand");
  }

  @Test
  void joinWithoutRoomNamesTheMissingOption() {
    assertUsageError(run("join", "--user", "alice"), "--room");
  }

  @Test
  void joinNeedsAUserOrAToken() {
    assertUsageError(run("join", "--room", "r1"), "--user=<user> | --token=<token>");
  }

  @Test
  void userAndTokenTogetherAreRefused() {
    assertUsageError(
        run("join", "--user", "alice", "--token", "t", "--room", "r1"), "mutually exclusive");
  }

  @Test
  void createWithoutTitleNamesTheMissingOption() {
    assertUsageError(run("create", "--user", "alice"), "--title");
  }

  @Test
  void badServerAddressNamesTheValue() {
    assertUsageError(run("--server", "localhost", "token", "--user", "alice"), "'localhost'");
    assertUsageError(run("token", "--user", "alice", "--server", "h:99999"), "'h:99999'");
  }

  @Test
  void unknownSubcommandIsAUsageError() {
    assertUsageError(run("dance"), "dance");
  }

  @Test
  void statusClockShowsMinutesSecondsAndMilliseconds() {
    assertThat(Join.clock(0)).isEqualTo("00:00.000");
    assertThat(Join.clock(62_345.4)).isEqualTo("01:02.345");
    assertThat(Join.clock(3_723_004)).isEqualTo("62:03.004");
  }

  @Test
  void clockedPlayerAdvancesAtItsRateOnlyWhilePlaying() {
    long[] now = {1_000};
    ClockedPlayer player = new ClockedPlayer(() -> now[0]);
    now[0] += 500;
    assertThat(player.positionMs()).isZero();
    player.play();
    now[0] += 1_000;
    player.setRate(2);
    now[0] += 1_000;
    assertThat(player.positionMs()).isEqualTo(3_000);
    player.pause();
    now[0] += 1_000;
    assertThat(player.positionMs()).isEqualTo(3_000);
    player.seek(10_000);
    assertThat(player.positionMs()).isEqualTo(10_000);
    assertThat(player.playing()).isFalse();
  }
}
