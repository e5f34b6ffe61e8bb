package io.watchparty.terminal;

import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.watchparty.client.Refusal;
import io.watchparty.client.WatchPartyClient;
import io.watchparty.client.WatchPartyException;
import io.watchparty.proto.v1.CreateRoomResponse;
import io.watchparty.proto.v1.DemoAuthServiceGrpc;
import io.watchparty.proto.v1.IssueDemoTokenRequest;
import io.watchparty.proto.v1.RoomInfo;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.Visibility;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * The WatchParty terminal client, built on the Java client library ({@code io.watchparty.client}):
 * get a demo token, list public parties, create a room, or join one with a simulated player kept in
 * sync. Every failure ends with one sentence on standard error and a non-zero exit code: {@value
 * #REFUSED} when the server refused, {@value #USAGE} for bad arguments, {@value #UNREACHABLE} when
 * the server cannot be reached (or is gone after the library's reconnect attempts).
 */
@Command(
    name = "watchparty-terminal",
    mixinStandardHelpOptions = true,
    description = "A terminal client for WatchParty (demo users need watchparty.auth.demo=true).",
    subcommands = {
      WatchPartyTerminal.Token.class,
      WatchPartyTerminal.Rooms.class,
      WatchPartyTerminal.Create.class,
      Join.class
    })
public final class WatchPartyTerminal {
  /** Exit code: the server refused the request (its reason is printed). */
  public static final int REFUSED = 1;

  /** Exit code: bad arguments. */
  public static final int USAGE = 2;

  /** Exit code: the server cannot be reached, or is gone after the reconnect attempts. */
  public static final int UNREACHABLE = 3;

  private static final long CALL_TIMEOUT_S = 30;

  @Option(
      names = "--server",
      defaultValue = "127.0.0.1:50051",
      converter = Target.Converter.class,
      scope = CommandLine.ScopeType.INHERIT,
      description = "The server's gRPC address, host:port (default: ${DEFAULT-VALUE}).")
  Target server;

  final InputStream in;
  final PrintStream out;
  final PrintStream err;
  private final Function<Target, ManagedChannel> channels;

  private WatchPartyTerminal(
      InputStream in, PrintStream out, PrintStream err, Function<Target, ManagedChannel> channels) {
    this.in = in;
    this.out = out;
    this.err = err;
    this.channels = channels;
  }

  /** Runs the terminal client on the process's standard streams and exits with its code. */
  public static void main(String[] args) {
    System.exit(run(args, System.in, System.out, System.err));
  }

  /** Runs one command line on the given streams; returns the exit code. */
  static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
    return run(
        args,
        in,
        out,
        err,
        target ->
            NettyChannelBuilder.forAddress(target.host(), target.port()).usePlaintext().build());
  }

  /** Tests: the same, with channels to {@code --server} made by {@code channels}. */
  static int run(
      String[] args,
      InputStream in,
      PrintStream out,
      PrintStream err,
      Function<Target, ManagedChannel> channels) {
    WatchPartyTerminal terminal = new WatchPartyTerminal(in, out, err, channels);
    return new CommandLine(terminal)
        .setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true))
        .setParameterExceptionHandler(
            (e, ignored) -> {
              err.println(
                  sentence(e.getMessage())
                      + " See '"
                      + e.getCommandLine().getCommandSpec().qualifiedName()
                      + " --help'.");
              return USAGE;
            })
        .setExecutionExceptionHandler((e, cl, ignored) -> terminal.fail(e))
        .execute(args);
  }

  /** A host:port address. */
  record Target(String host, int port) {
    @Override
    public String toString() {
      return host + ":" + port;
    }

    /** Parses {@code --server}; a bad value is a usage error naming it. */
    static final class Converter implements CommandLine.ITypeConverter<Target> {
      @Override
      public Target convert(String value) {
        int colon = value.lastIndexOf(':');
        try {
          int port = Integer.parseInt(value.substring(colon + 1));
          if (colon <= 0 || port < 1 || port > 65_535) {
            throw new NumberFormatException();
          }
          return new Target(value.substring(0, colon), port);
        } catch (NumberFormatException e) {
          throw new CommandLine.TypeConversionException(
              "expected host:port with a port in 1..65535, got '" + value + "'");
        }
      }
    }
  }

  /** Who signs in: a demo user, or a real token. */
  static final class Identity {
    @Option(
        names = "--user",
        required = true,
        description = "A demo user (alice, bob, hiro, ...); the token comes from DemoAuthService.")
    String user; // picocli sets exactly one of the two

    @Option(names = "--token", required = true, description = "A token from the platform.")
    String token;

    /** A name for messages: the user id, or "you" with a real token. */
    String who() {
      return user != null ? user : "you";
    }
  }

  /** One signed-in client on its own channel; closing it twice is harmless. */
  final class Session implements AutoCloseable {
    final ManagedChannel channel;
    final WatchPartyClient client;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Channels to the other instances of a fleet that owned a room joined here, by address. */
    private final Map<String, ManagedChannel> owners = new ConcurrentHashMap<>();

    Session(Identity identity, int reconnectAttempts) {
      channel = channel();
      try {
        String token = identity.token != null ? identity.token : demoToken(channel, identity.user);
        client =
            WatchPartyClient.builder(channel, token)
                .maxReconnectAttempts(reconnectAttempts)
                // A room owned by another instance of a fleet is joined there (ROOM_MOVED).
                .instances(
                    address ->
                        owners.computeIfAbsent(
                            address, a -> channels.apply(new Target.Converter().convert(a))))
                .build();
      } catch (RuntimeException e) {
        channel.shutdownNow();
        throw e;
      }
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        client.close();
        channel.shutdownNow();
        owners.values().forEach(ManagedChannel::shutdownNow);
      }
    }
  }

  ManagedChannel channel() {
    return channels.apply(server);
  }

  static String demoToken(Channel channel, String userId) {
    return DemoAuthServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(CALL_TIMEOUT_S, TimeUnit.SECONDS)
        .issueDemoToken(IssueDemoTokenRequest.newBuilder().setUserId(userId).build())
        .getToken();
  }

  /** Waits for a library call's result; its failure reaches {@link #fail}. */
  static <T> T await(CompletableFuture<T> call) throws Exception {
    try {
      return call.get(CALL_TIMEOUT_S, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  /** Maps a failure to one sentence on stderr and an exit code. */
  int fail(Exception e) {
    Throwable failure = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    switch (failure) {
      case WatchPartyException refused -> {
        Refusal refusal = refused.refusal();
        if (refusal.code() == Status.Code.UNAVAILABLE) {
          return unreachable(refusal.message());
        }
        err.println("The server refused: " + sentence(refusal.toString()));
        return REFUSED;
      }
      case StatusRuntimeException status -> {
        Status s = status.getStatus();
        if (s.getCode() == Status.Code.UNAVAILABLE
            || s.getCode() == Status.Code.DEADLINE_EXCEEDED) {
          return unreachable(
              s.getCause() != null && s.getCause().getMessage() != null
                  ? s.getCause().getMessage()
                  : String.valueOf(s.getDescription()));
        }
        if (s.getCode() == Status.Code.UNIMPLEMENTED) {
          err.println(
              "The server at "
                  + server
                  + " issues no demo tokens (start it with"
                  + " watchparty.auth.demo=true, or pass --token).");
          return REFUSED;
        }
        err.println(
            "The server refused: "
                + sentence(s.getCode() + ": " + String.valueOf(s.getDescription())));
        return REFUSED;
      }
      case TimeoutException timeout -> {
        return unreachable("no answer within " + CALL_TIMEOUT_S + " s");
      }
      default -> {
        err.println("Failed: " + sentence(String.valueOf(failure)));
        return 1;
      }
    }
  }

  int unreachable(String detail) {
    err.println("Cannot reach the server at " + server + ": " + sentence(detail));
    return UNREACHABLE;
  }

  /** Ends {@code text} with a full stop unless it has one. */
  static String sentence(String text) {
    String trimmed = text.strip();
    return trimmed.endsWith(".") ? trimmed : trimmed + ".";
  }

  @Command(
      name = "token",
      mixinStandardHelpOptions = true,
      description = "Prints a demo token for a demo user (for grpcurl, curl or --token).")
  static final class Token implements Callable<Integer> {
    @ParentCommand WatchPartyTerminal terminal;

    @Option(names = "--user", required = true, description = "A demo user (alice, bob, ...).")
    String user;

    @Override
    public Integer call() {
      ManagedChannel channel = terminal.channel();
      try {
        terminal.out.println(demoToken(channel, user));
        return 0;
      } finally {
        channel.shutdownNow();
      }
    }
  }

  @Command(
      name = "rooms",
      mixinStandardHelpOptions = true,
      description = "Lists public parties, busiest first, and whether you can watch them here.")
  static final class Rooms implements Callable<Integer> {
    @ParentCommand WatchPartyTerminal terminal;

    @ArgGroup(multiplicity = "1")
    Identity identity;

    @Override
    public Integer call() throws Exception {
      try (Session session = terminal.new Session(identity, 0)) {
        var page = await(session.client.listPublicRooms(100, Optional.empty()));
        if (page.getRoomsCount() == 0) {
          terminal.out.println("No public parties right now.");
        }
        for (RoomInfo room : page.getRoomsList()) {
          terminal.out.printf(
              "%s  %-24s %-12s host %-10s %3d members  %s%n",
              room.getRoomId(),
              room.getName(),
              room.getTitleId(),
              room.getHostUserId(),
              room.getMemberCount(),
              room.getCanWatch() ? "can watch here" : "not available here");
        }
        if (!page.getNextPageToken().isEmpty()) {
          terminal.out.println("(more parties than these " + page.getRoomsCount() + ")");
        }
        return 0;
      }
    }
  }

  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = "Creates a room (you are its host) and prints its id and share link.")
  static final class Create implements Callable<Integer> {
    @ParentCommand WatchPartyTerminal terminal;

    @ArgGroup(multiplicity = "1")
    Identity identity;

    @Option(names = "--title", required = true, description = "The title's id, e.g. sintel.")
    String title;

    @Option(names = "--public", description = "List the party publicly (default: private).")
    boolean isPublic;

    @Option(names = "--name", description = "The party's name (default: <user>'s party).")
    Optional<String> name = Optional.empty();

    @Override
    public Integer call() throws Exception {
      try (Session session = terminal.new Session(identity, 0)) {
        CreateRoomResponse created =
            await(
                session.client.createRoom(
                    title,
                    name.orElse(identity.who() + "'s party"),
                    RoomSettings.newBuilder()
                        .setVisibility(isPublic ? Visibility.PUBLIC : Visibility.PRIVATE)
                        .build()));
        terminal.out.println("room id: " + created.getRoom().getRoomId());
        terminal.out.println("share link: " + created.getShareLink());
        if (!created.getInviteToken().isEmpty()) {
          terminal.out.println("invite token: " + created.getInviteToken());
        }
        return 0;
      }
    }
  }
}
