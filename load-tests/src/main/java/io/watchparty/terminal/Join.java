package io.watchparty.terminal;

import io.watchparty.client.ConnectionState;
import io.watchparty.client.Refusal;
import io.watchparty.client.RoomConnection;
import io.watchparty.client.RoomListener;
import io.watchparty.client.WatchPartyException;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.Member;
import io.watchparty.proto.v1.MemberLeft;
import io.watchparty.proto.v1.NoticeCode;
import io.watchparty.proto.v1.PlaybackChanged;
import io.watchparty.proto.v1.PlaybackState;
import io.watchparty.proto.v1.Role;
import io.watchparty.proto.v1.Snapshot;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code join}: joins a room through the client library with a {@link ClockedPlayer} attached,
 * prints a status line about once a second and the room's chat and events as lines, and reads
 * {@link Input} commands from standard input until the connection ends.
 */
@Command(
    name = "join",
    mixinStandardHelpOptions = true,
    description = {
      "Joins a room with a simulated player kept in sync; prints its status once a second.",
      "Commands on standard input: play, pause, seek <seconds>, rate <r>, say <text>,"
          + " react <emoji>, kick|ban|cohost <user>, leave, quit."
    })
final class Join implements Callable<Integer> {
  private static final long QUIT_WAIT_S = 10;

  @ParentCommand WatchPartyTerminal terminal;

  @ArgGroup(multiplicity = "1")
  WatchPartyTerminal.Identity identity;

  @Option(names = "--room", required = true, description = "The room's id.")
  String roomId;

  @Option(names = "--invite", description = "A private room's invite token (from its link).")
  String invite;

  @Option(
      names = "--reconnect-attempts",
      defaultValue = "12",
      description = "Reconnects in a row before giving up (default: ${DEFAULT-VALUE}).")
  int reconnectAttempts;

  @Override
  public Integer call() throws Exception {
    PrintStream out = terminal.out;
    try (var session = terminal.new Session(identity, reconnectAttempts);
        ScheduledExecutorService ticker =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().factory())) {
      long origin = System.nanoTime();
      ClockedPlayer player = new ClockedPlayer(() -> (System.nanoTime() - origin) / 1_000_000);
      Room room = new Room(out);
      RoomConnection connection = session.client.join(roomId, Optional.ofNullable(invite), room);
      connection.attachPlayer(player);
      // Status lines fall on whole seconds of the server's clock (once this client estimates it),
      // stamped with that instant: two terminals' lines of the same instant can be compared.
      Runnable[] tick = new Runnable[1];
      tick[0] =
          () -> {
            try {
              room.printStatus(
                  connection.clockReady() ? connection.serverTimeMs() : -1, player.positionMs());
            } catch (RuntimeException e) {
              out.println("[status] unavailable: " + e);
            }
            long untilNextSecond =
                connection.clockReady()
                    ? 1000 - Math.floorMod(connection.serverTimeMs(), 1000)
                    : 1000;
            ticker.schedule(tick[0], untilNextSecond, TimeUnit.MILLISECONDS);
          };
      ticker.schedule(tick[0], 1, TimeUnit.SECONDS);
      Thread.ofPlatform()
          .daemon()
          .name("terminal-stdin")
          .start(() -> readCommands(connection, session, out));

      ConnectionState last = connection.ended().get();
      return switch (last) {
        case LEFT, CLOSED -> 0;
        case ROOM_CLOSED -> {
          out.println("The room ended.");
          yield 0;
        }
        case GAVE_UP ->
            terminal.unreachable(
                "gave up after "
                    + reconnectAttempts
                    + " reconnect attempts ("
                    + room.refusal.map(Refusal::toString).orElse("no answer")
                    + ")");
        default -> {
          String why = room.refusal.map(Refusal::toString).orElse(last.name());
          terminal.err.println(
              (room.wasJoined
                      ? identity.who() + " was removed from room " + roomId + ": "
                      : identity.who() + " cannot join room " + roomId + ": ")
                  + WatchPartyTerminal.sentence(why));
          yield WatchPartyTerminal.REFUSED;
        }
      };
    }
  }

  /**
   * Reads stdin until EOF, {@code leave} or {@code quit}; EOF counts as quit. Input piped in ahead
   * of the join waits (bounded) for it, so that a refused join is reported rather than cut short by
   * the EOF, and quitting waits (bounded) for the answers to the commands sent.
   */
  private void readCommands(
      RoomConnection connection, WatchPartyTerminal.Session session, PrintStream out) {
    var lines = new BufferedReader(new InputStreamReader(terminal.in, StandardCharsets.UTF_8));
    List<CompletableFuture<?>> answers = new ArrayList<>();
    try {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        if (!joinSettled(connection)) {
          return; // refused: the main thread reports why, from the connection's end
        }
        Input input;
        try {
          input = Input.parse(line);
        } catch (IllegalArgumentException e) {
          out.println(e.getMessage());
          continue;
        }
        switch (input) {
          case Input.Leave leave -> {
            connection.leave();
            return;
          }
          case Input.Quit quit -> {
            quit(session, answers);
            return;
          }
          default -> {
            answers.removeIf(CompletableFuture::isDone);
            answers.add(send(connection, input, out));
          }
        }
      }
    } catch (IOException e) {
      out.println("cannot read standard input: " + e.getMessage());
    }
    if (joinSettled(connection)) {
      quit(session, answers);
    }
  }

  /** Waits up to {@value #QUIT_WAIT_S} s for the join; false if it was refused. */
  private static boolean joinSettled(RoomConnection connection) {
    try {
      connection.joined().get(QUIT_WAIT_S, TimeUnit.SECONDS);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    } catch (ExecutionException e) {
      return false;
    } catch (TimeoutException e) {
      return true; // still connecting: the user's input goes ahead
    }
  }

  private static void quit(WatchPartyTerminal.Session session, List<CompletableFuture<?>> answers) {
    try {
      CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
          .get(QUIT_WAIT_S, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // A refused command was printed already; an unanswered one is given up on.
    }
    session.close();
  }

  private static CompletableFuture<?> send(
      RoomConnection connection, Input input, PrintStream out) {
    CompletableFuture<?> result =
        switch (input) {
          case Input.Play p -> connection.play();
          case Input.Pause p -> connection.pause();
          case Input.Seek s -> connection.seek(s.positionMs());
          case Input.Rate r -> connection.setRate(r.rate());
          case Input.Say s -> connection.sendChat(s.text());
          case Input.React r -> {
            connection.react(r.emoji());
            yield CompletableFuture.completedFuture(null);
          }
          case Input.Kick k -> connection.kick(k.userId());
          case Input.Ban b -> connection.ban(b.userId());
          case Input.Cohost c -> connection.grantCohost(c.userId());
          case Input.Help h -> {
            out.println(Input.USAGE);
            yield CompletableFuture.completedFuture(null);
          }
          case Input.Nothing n -> CompletableFuture.completedFuture(null);
          case Input.Leave l -> throw new IllegalStateException("handled by the reader");
          case Input.Quit q -> throw new IllegalStateException("handled by the reader");
        };
    return result.whenComplete(
        (ok, failure) -> {
          if (failure instanceof WatchPartyException refused) {
            out.println("[refused] " + refused.refusal());
          }
        });
  }

  /** mm:ss.mmm of a media position (minutes may exceed 59). */
  static String clock(double positionMs) {
    long ms = Math.max(0, Math.round(positionMs));
    return String.format("%02d:%02d.%03d", ms / 60_000, ms / 1000 % 60, ms % 1000);
  }

  /**
   * The room as this terminal sees it, and the printing of its events. The library calls it on its
   * client thread; the ticker reads the volatile fields from another.
   */
  private static final class Room implements RoomListener {
    private final PrintStream out;
    private final AtomicLong members = new AtomicLong();
    private volatile PlaybackState playback = PlaybackState.getDefaultInstance();
    private volatile ConnectionState state = ConnectionState.CONNECTING;
    private volatile Optional<Refusal> refusal = Optional.empty();
    private volatile boolean wasJoined;

    Room(PrintStream out) {
      this.out = out;
    }

    private static final java.time.format.DateTimeFormatter INSTANT =
        java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss.SSS")
            .withZone(java.time.ZoneOffset.UTC);

    /** One status line; {@code serverTimeMs} is the instant it is for (-1 before the clock). */
    void printStatus(long serverTimeMs, double positionMs) {
      if (!wasJoined) {
        out.println("[status] " + state);
        return;
      }
      PlaybackState now = playback;
      out.printf(
          "[status] %s %s %s x%.2f  %d members  %s%n",
          serverTimeMs < 0
              ? "@(clock not ready)"
              : "@" + INSTANT.format(java.time.Instant.ofEpochMilli(serverTimeMs)),
          clock(positionMs),
          now.getPlaying() ? "playing" : "paused ",
          now.getRate() == 0 ? 1.0 : now.getRate(),
          members.get(),
          state);
    }

    @Override
    public void onConnectionState(ConnectionState next, Optional<Refusal> why) {
      state = next;
      why.ifPresent(r -> refusal = Optional.of(r));
      if (next == ConnectionState.JOINED) {
        wasJoined = true;
      }
      if (!next.isFinal()) {
        out.println("[connection] " + next + why.map(r -> " (" + r + ")").orElse(""));
      }
    }

    @Override
    public void onSnapshot(Snapshot snapshot) {
      playback = snapshot.getPlayback();
      members.set(snapshot.getMemberCount());
      out.printf(
          "[room] %s: %s, hosted by %s; you are %s%s%n",
          snapshot.getRoom().getName(),
          snapshot.getPlayback().getTitleId(),
          snapshot.getRoom().getHostUserId(),
          snapshot.getYourRole(),
          snapshot.getCanWatch() ? "" : " (the title is not available in your region)");
      snapshot.getRecentChatList().forEach(this::onChat);
    }

    @Override
    public void onPlayback(PlaybackState next, String byUserId, PlaybackChanged.Cause cause) {
      playback = next;
      out.printf(
          "[playback] %s: %s at %s x%.2f (%s)%n",
          byUserId.isEmpty() ? "server" : byUserId,
          next.getPlaying() ? "play" : "pause",
          clock(next.getPositionMs()),
          next.getRate(),
          cause);
    }

    @Override
    public void onMemberJoined(Member member) {
      members.incrementAndGet();
      out.println("[member] " + member.getUserId() + " joined as " + member.getRole());
    }

    @Override
    public void onMemberLeft(String userId, MemberLeft.Reason reason) {
      members.updateAndGet(n -> Math.max(0, n - 1));
      out.println("[member] " + userId + " left (" + reason + ")");
    }

    @Override
    public void onRoleChanged(String userId, Role role, String byUserId) {
      out.println("[member] " + userId + " is now " + role + " (by " + byUserId + ")");
    }

    @Override
    public void onPresence(long memberCount) {
      members.set(memberCount);
    }

    @Override
    public void onNotice(NoticeCode code, String text) {
      out.println("[notice] " + code + ": " + text);
    }

    @Override
    public void onChat(ChatMessage message) {
      out.println("[chat] " + message.getDisplayName() + ": " + message.getText());
    }

    @Override
    public void onChatDeleted(String messageId, String byUserId) {
      out.println("[chat] a message was deleted by " + byUserId);
    }

    @Override
    public void onReactions(Map<String, Long> counts) {
      StringBuilder line = new StringBuilder("[reactions]");
      counts.forEach((emoji, n) -> line.append(' ').append(emoji).append(" x").append(n));
      out.println(line);
    }

    @Override
    public void onUserMuted(String userId, long untilMs, String byUserId) {
      out.println(
          "[moderation] " + userId + (untilMs == 0 ? " unmuted" : " muted") + " by " + byUserId);
    }

    @Override
    public void onSlowMode(long slowModeMs, String byUserId) {
      out.println("[moderation] slow mode " + slowModeMs + " ms (by " + byUserId + ")");
    }

    @Override
    public void onWatchability(
        String titleId, boolean canWatch, String reason, long availableFromMs) {
      out.println(
          "[watch] "
              + titleId
              + (canWatch ? " can be watched here" : " cannot be watched here: " + reason));
    }

    @Override
    public void onRoomClosed(String reason) {
      out.println("[room] closed: " + reason);
    }
  }
}
