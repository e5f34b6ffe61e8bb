package io.watchparty.loadtest;

import com.google.protobuf.util.JsonFormat;
import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.ClockPing;
import io.watchparty.proto.v1.Command;
import io.watchparty.proto.v1.CreateRoomRequest;
import io.watchparty.proto.v1.DemoAuthServiceGrpc;
import io.watchparty.proto.v1.IssueDemoTokenRequest;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.Leave;
import io.watchparty.proto.v1.PlaybackCommand;
import io.watchparty.proto.v1.React;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.SendChat;
import io.watchparty.proto.v1.ServerMessage;
import io.watchparty.proto.v1.Visibility;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * A terminal client for trying a local server by hand, as a demo user (the server must run with
 * {@code watchparty.auth.demo=true}). {@code create} makes a room; {@code join} joins one, prints
 * every server message as a JSON line, and reads commands from standard input: {@code play}, {@code
 * pause}, {@code seek <ms>}, {@code rate <r>}, {@code title <id>}, {@code say <text>} (chat),
 * {@code react <emoji>}, {@code ping}, {@code leave}.
 */
@CommandLine.Command(
    name = "room-console",
    mixinStandardHelpOptions = true,
    subcommands = {RoomConsole.Create.class, RoomConsole.JoinRoom.class})
public final class RoomConsole {
  @Option(
      names = "--target",
      defaultValue = "127.0.0.1:50051",
      scope = CommandLine.ScopeType.INHERIT)
  String target;

  @Option(names = "--user", defaultValue = "alice", scope = CommandLine.ScopeType.INHERIT)
  String user;

  /** Prints refusals' ErrorInfo details readably, too. */
  private static final JsonFormat.Printer JSON =
      JsonFormat.printer()
          .omittingInsignificantWhitespace()
          .usingTypeRegistry(
              JsonFormat.TypeRegistry.newBuilder().add(ErrorInfo.getDescriptor()).build());

  public static void main(String[] args) {
    System.exit(new CommandLine(new RoomConsole()).execute(args));
  }

  ManagedChannel channel() {
    int colon = target.lastIndexOf(':');
    return NettyChannelBuilder.forAddress(
            target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)))
        .usePlaintext()
        .build();
  }

  io.grpc.ClientInterceptor auth(ManagedChannel channel) {
    String token =
        DemoAuthServiceGrpc.newBlockingStub(channel)
            .issueDemoToken(IssueDemoTokenRequest.newBuilder().setUserId(user).build())
            .getToken();
    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    return MetadataUtils.newAttachHeadersInterceptor(headers);
  }

  static void print(com.google.protobuf.MessageOrBuilder message) {
    try {
      System.out.println(JSON.print(message));
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      System.out.println(message);
    }
  }

  static void printFailure(Throwable t) {
    Status status = Status.fromThrowable(t);
    com.google.rpc.Status details = StatusProto.fromThrowable(t);
    System.out.println(
        "ended: "
            + status.getCode()
            + " "
            + status.getDescription()
            + (details == null ? "" : " " + details.getDetailsList()));
  }

  @CommandLine.Command(name = "create", description = "Creates a room and prints it.")
  static final class Create implements Callable<Integer> {
    @CommandLine.ParentCommand RoomConsole parent;

    @Option(names = "--title", defaultValue = "sintel")
    String title;

    @Option(names = "--public")
    boolean isPublic;

    @Override
    public Integer call() {
      ManagedChannel channel = parent.channel();
      try {
        print(
            RoomServiceGrpc.newBlockingStub(channel)
                .withInterceptors(parent.auth(channel))
                .createRoom(
                    CreateRoomRequest.newBuilder()
                        .setTitleId(title)
                        .setName(parent.user + "'s party")
                        .setSettings(
                            RoomSettings.newBuilder()
                                .setVisibility(isPublic ? Visibility.PUBLIC : Visibility.PRIVATE))
                        .build()));
        return 0;
      } catch (RuntimeException e) {
        printFailure(e);
        return 1;
      } finally {
        channel.shutdownNow();
      }
    }
  }

  @CommandLine.Command(name = "join", description = "Joins a room; commands on standard input.")
  static final class JoinRoom implements Callable<Integer> {
    @CommandLine.ParentCommand RoomConsole parent;

    @Option(names = "--room", required = true)
    String roomId;

    @Option(names = "--invite", defaultValue = "")
    String invite;

    @Override
    public Integer call() throws Exception {
      ManagedChannel channel = parent.channel();
      CountDownLatch ended = new CountDownLatch(1);
      StreamObserver<ClientMessage> requests =
          RoomServiceGrpc.newStub(channel)
              .withInterceptors(parent.auth(channel))
              .connect(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(ServerMessage message) {
                      print(message);
                    }

                    @Override
                    public void onError(Throwable t) {
                      printFailure(t);
                      ended.countDown();
                    }

                    @Override
                    public void onCompleted() {
                      System.out.println("ended: OK");
                      ended.countDown();
                    }
                  });
      requests.onNext(
          ClientMessage.newBuilder()
              .setJoin(Join.newBuilder().setRoomId(roomId).setInviteToken(invite))
              .build());
      var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      int requestId = 0;
      for (String line = in.readLine();
          line != null && ended.getCount() > 0;
          line = in.readLine()) {
        String[] words = line.trim().split("\\s+");
        var message = ClientMessage.newBuilder().setRequestId(Integer.toString(++requestId));
        var playback = PlaybackCommand.newBuilder();
        switch (words[0]) {
          case "play" -> playback.setPlay(PlaybackCommand.Play.getDefaultInstance());
          case "pause" -> playback.setPause(PlaybackCommand.Pause.getDefaultInstance());
          case "seek" ->
              playback.setSeek(
                  PlaybackCommand.Seek.newBuilder().setPositionMs(Long.parseLong(words[1])));
          case "rate" ->
              playback.setSetRate(
                  PlaybackCommand.SetRate.newBuilder().setRate(Double.parseDouble(words[1])));
          case "title" ->
              playback.setChangeTitle(
                  PlaybackCommand.ChangeTitle.newBuilder().setTitleId(words[1]));
          case "ping" ->
              message.setPing(
                  ClockPing.newBuilder().setClientSendTimeMs(System.currentTimeMillis()));
          case "leave" -> message.setLeave(Leave.getDefaultInstance());
          case "say" ->
              message.setSendChat(
                  SendChat.newBuilder()
                      .setClientMessageId(parent.user + "-" + requestId)
                      .setText(line.trim().substring(3).trim()));
          case "react" -> message.setReact(React.newBuilder().setEmoji(words[1]));
          default -> {
            System.out.println(
                "commands: play | pause | seek <ms> | rate <r> | title <id> | say <text> | react"
                    + " <emoji> | ping | leave");
            continue;
          }
        }
        if (playback.getActionCase() != PlaybackCommand.ActionCase.ACTION_NOT_SET) {
          message.setCommand(Command.newBuilder().setPlayback(playback));
        }
        requests.onNext(message.build());
      }
      if (ended.getCount() > 0) {
        requests.onCompleted();
      }
      ended.await();
      channel.shutdownNow();
      return 0;
    }
  }
}
