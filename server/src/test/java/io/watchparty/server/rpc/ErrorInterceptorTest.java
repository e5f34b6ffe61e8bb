package io.watchparty.server.rpc;

import static io.watchparty.server.testing.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ch.qos.logback.classic.Level;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.rpc.ErrorInfo;
import io.grpc.ForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.Account;
import io.watchparty.proto.v1.AccountServiceGrpc;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.GetAccountRequest;
import io.watchparty.server.refusal.RefusedException;
import io.watchparty.server.testing.CapturedLog;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ErrorInterceptorTest {
  private static final RefusedException ROOM_GONE =
      new RefusedException(ErrorReason.ROOM_NOT_FOUND, "no room r-1", Map.of("room_id", "r-1"));

  /** What the service does with each call; set by each test. */
  private volatile BiConsumer<GetAccountRequest, StreamObserver<Account>> handler;

  /** What the interceptor in front of the service (standing in for auth) throws, if anything. */
  private volatile Optional<RuntimeException> refusedUpFront = Optional.empty();

  /** Whether the interceptor in front of the service throws while taking the request. */
  private volatile Optional<RuntimeException> refusedOnMessage = Optional.empty();

  private final CapturedLog log = CapturedLog.of(ErrorMapper.class);
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws IOException {
    var service =
        new AccountServiceGrpc.AccountServiceImplBase() {
          @Override
          public void getAccount(GetAccountRequest request, StreamObserver<Account> response) {
            handler.accept(request, response);
          }
        };
    ServerInterceptor inFront =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            refusedUpFront.ifPresent(
                e -> {
                  throw e;
                });
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
                next.startCall(call, headers)) {
              @Override
              public void onMessage(Q message) {
                refusedOnMessage.ifPresent(
                    e -> {
                      throw e;
                    });
                super.onMessage(message);
              }
            };
          }
        };
    ErrorMapper.Translator timeouts =
        failure ->
            failure instanceof TimeoutException
                ? Optional.of(new RefusedException(ErrorReason.STORAGE_UNAVAILABLE, "try again"))
                : Optional.empty();
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .intercept(new ErrorInterceptor(new ErrorMapper(List.of(timeouts))))
            .addService(ServerInterceptors.intercept(service, inFront))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
    log.close();
  }

  private Account call() {
    return AccountServiceGrpc.newBlockingStub(channel)
        .getAccount(GetAccountRequest.getDefaultInstance());
  }

  @Test
  void refusalThrownByTheHandlerEndsTheCallWithItsCodeAndErrorInfo() {
    handler =
        (request, response) -> {
          throw ROOM_GONE;
        };

    ErrorInfo info = assertRefused(this::call, Code.NOT_FOUND, ErrorReason.ROOM_NOT_FOUND);

    assertThat(info.getMetadataMap()).containsExactlyEntriesOf(Map.of("room_id", "r-1"));
    assertThat(log.at(Level.ERROR)).isEmpty();
  }

  @Test
  void refusalAStageCompletesWithLaterEndsTheCallTheSameWay() throws Exception {
    var pending = new CompletableFuture<Account>();
    handler = (request, response) -> Replies.whenDone(pending, response);
    ListenableFuture<Account> answer =
        AccountServiceGrpc.newFutureStub(channel)
            .getAccount(GetAccountRequest.getDefaultInstance());

    pending.completeExceptionally(ROOM_GONE);

    ExecutionException failed = catchThrowableOfType(ExecutionException.class, answer::get);
    assertRefused(
        () -> {
          throw failed.getCause();
        },
        Code.NOT_FOUND,
        ErrorReason.ROOM_NOT_FOUND);
  }

  @Test
  void stageThatCompletesNormallyAnswers() {
    handler =
        (request, response) ->
            Replies.whenDone(
                CompletableFuture.supplyAsync(() -> Account.newBuilder().setUserId("u").build()),
                response);

    assertThat(call().getUserId()).isEqualTo("u");
  }

  @Test
  void refusalThrownByAnInterceptorInFrontOfTheServiceIsMapped() {
    refusedUpFront =
        Optional.of(new RefusedException(ErrorReason.TOKEN_MISSING, "the call needs a token"));
    handler = (request, response) -> response.onNext(Account.getDefaultInstance());

    assertRefused(this::call, Code.UNAUTHENTICATED, ErrorReason.TOKEN_MISSING);
  }

  @Test
  void refusalThrownWhileTakingTheRequestIsTheStatusTheCallerGets() {
    refusedOnMessage =
        Optional.of(new RefusedException(ErrorReason.INVALID_UTF8, "not valid UTF-8: name"));
    handler = (request, response) -> response.onNext(Account.getDefaultInstance());

    assertRefused(this::call, Code.INVALID_ARGUMENT, ErrorReason.INVALID_UTF8);
  }

  @Test
  void unexpectedFailureIsInternalLeaksNothingAndIsLoggedOnce() {
    handler =
        (request, response) -> {
          throw new IllegalStateException("password=hunter2");
        };

    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, this::call);

    assertThat(e.getStatus().getCode()).isEqualTo(Code.INTERNAL);
    assertThat(e.getStatus().getDescription()).doesNotContain("hunter2");
    assertThat(log.at(Level.ERROR)).hasSize(1);
  }

  @Test
  void unexpectedFailurePassedToOnErrorIsInternalAndLoggedOnce() {
    handler = (request, response) -> response.onError(new NullPointerException("members"));

    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, this::call);

    assertThat(e.getStatus().getCode()).isEqualTo(Code.INTERNAL);
    assertThat(log.at(Level.ERROR)).hasSize(1);
  }

  @Test
  void failureATranslatorKnowsIsItsRefusal() {
    handler =
        (request, response) ->
            Replies.whenDone(CompletableFuture.failedFuture(new TimeoutException()), response);

    assertRefused(this::call, Code.UNAVAILABLE, ErrorReason.STORAGE_UNAVAILABLE);
    assertThat(log.at(Level.ERROR)).isEmpty();
  }

  @Test
  void statusTheServiceChosePassesThroughUntouched() {
    handler =
        (request, response) ->
            response.onError(Status.FAILED_PRECONDITION.withDescription("chosen").asException());

    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, this::call);

    assertThat(e.getStatus().getCode()).isEqualTo(Code.FAILED_PRECONDITION);
    assertThat(e.getStatus().getDescription()).isEqualTo("chosen");
    assertThat(log.at(Level.ERROR)).isEmpty();
  }
}
