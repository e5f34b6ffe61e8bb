package io.watchparty.loadtest;

import com.google.rpc.ErrorInfo;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.watchparty.proto.v1.ChatMessage;
import io.watchparty.proto.v1.ChatServiceGrpc;
import io.watchparty.proto.v1.ClientMessage;
import io.watchparty.proto.v1.Join;
import io.watchparty.proto.v1.ListChatHistoryRequest;
import io.watchparty.proto.v1.ListChatHistoryResponse;
import io.watchparty.proto.v1.RoomServiceGrpc;
import io.watchparty.proto.v1.ServerMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Calls fleet tests and takeover runs make besides the client library's: history, ownership. */
final class FleetCalls {
  private FleetCalls() {}

  /** The room's whole chat history at {@code instance} (its owner), oldest first. */
  static List<ChatMessage> history(Channel instance, Tokens tokens, String roomId) {
    ChatServiceGrpc.ChatServiceBlockingStub chat =
        ChatServiceGrpc.newBlockingStub(instance)
            .withInterceptors(
                MetadataUtils.newAttachHeadersInterceptor(tokens.headers("history-reader")));
    List<ChatMessage> stored = new ArrayList<>();
    String page = "";
    do {
      ListChatHistoryResponse response =
          chat.withDeadlineAfter(60, TimeUnit.SECONDS)
              .listChatHistory(
                  ListChatHistoryRequest.newBuilder()
                      .setRoomId(roomId)
                      .setPageSize(100)
                      .setPageToken(page)
                      .build());
      stored.addAll(response.getMessagesList());
      page = response.getNextPageToken();
    } while (!page.isEmpty());
    return stored.reversed();
  }

  /**
   * Who {@code instance} says owns the room: itself ({@code instanceAddress}) when it serves the
   * room's stream (it may claim the room to do so), the instance a {@code ROOM_MOVED} names, or
   * empty when it answered neither within {@code timeoutMs} (frozen, down, storage unavailable).
   */
  static Optional<String> ownerSeenBy(
      Channel instance, String instanceAddress, Tokens tokens, String roomId, long timeoutMs) {
    CompletableFuture<Optional<String>> answer = new CompletableFuture<>();
    ClientResponseObserver<ClientMessage, ServerMessage> observer =
        new ClientResponseObserver<>() {
          private ClientCallStreamObserver<ClientMessage> requests;

          @Override
          public void beforeStart(ClientCallStreamObserver<ClientMessage> requests) {
            this.requests = requests;
          }

          @Override
          public void onNext(ServerMessage message) {
            if (message.hasSnapshot()) {
              answer.complete(Optional.of(instanceAddress));
              requests.cancel("asked who owns the room", null);
            }
          }

          @Override
          public void onError(Throwable failure) {
            answer.complete(movedTo(failure));
          }

          @Override
          public void onCompleted() {
            answer.complete(Optional.empty());
          }
        };
    RoomServiceGrpc.newStub(instance)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(tokens.headers("owner-probe")))
        .withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
        .connect(observer)
        .onNext(ClientMessage.newBuilder().setJoin(Join.newBuilder().setRoomId(roomId)).build());
    try {
      return answer.get(timeoutMs + 1_000, TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  private static Optional<String> movedTo(Throwable failure) {
    com.google.rpc.Status status = StatusProto.fromThrowable(failure);
    if (status == null || Status.fromThrowable(failure).getCode() != Status.Code.UNAVAILABLE) {
      return Optional.empty();
    }
    for (var detail : status.getDetailsList()) {
      if (detail.is(ErrorInfo.class)) {
        try {
          ErrorInfo info = detail.unpack(ErrorInfo.class);
          if (info.getReason().equals("ROOM_MOVED")) {
            return Optional.ofNullable(info.getMetadataMap().get("owner_address"));
          }
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }
}
