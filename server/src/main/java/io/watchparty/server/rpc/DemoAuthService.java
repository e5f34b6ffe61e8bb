package io.watchparty.server.rpc;

import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.DemoAuthServiceGrpc;
import io.watchparty.proto.v1.DemoUser;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.IssueDemoTokenRequest;
import io.watchparty.proto.v1.IssueDemoTokenResponse;
import io.watchparty.proto.v1.ListDemoUsersRequest;
import io.watchparty.proto.v1.ListDemoUsersResponse;
import io.watchparty.server.auth.AuthSettings;
import io.watchparty.server.auth.DemoUsers;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.auth.TokenService;
import io.watchparty.server.refusal.Echo;
import io.watchparty.server.refusal.RefusedException;
import java.time.Clock;

/** Issues tokens for {@link DemoUsers}; refuses everything unless demo mode is on. */
public final class DemoAuthService extends DemoAuthServiceGrpc.DemoAuthServiceImplBase {
  private final TokenService tokens;
  private final AuthSettings settings;
  private final Clock clock;

  public DemoAuthService(TokenService tokens, AuthSettings settings, Clock clock) {
    this.tokens = tokens;
    this.settings = settings;
    this.clock = clock;
  }

  @Override
  public void listDemoUsers(
      ListDemoUsersRequest request, StreamObserver<ListDemoUsersResponse> response) {
    requireDemoMode();
    var reply = ListDemoUsersResponse.newBuilder();
    DemoUsers.all().forEach(u -> reply.addUsers(toProto(u)));
    response.onNext(reply.build());
    response.onCompleted();
  }

  @Override
  public void issueDemoToken(
      IssueDemoTokenRequest request, StreamObserver<IssueDemoTokenResponse> response) {
    requireDemoMode();
    Identity user =
        DemoUsers.find(request.getUserId())
            .orElseThrow(
                () ->
                    new RefusedException(
                        ErrorReason.DEMO_USER_NOT_FOUND,
                        "no demo user " + Echo.quoted(request.getUserId())));
    response.onNext(
        IssueDemoTokenResponse.newBuilder()
            .setToken(tokens.issue(user, settings.demoTokenLifetime()))
            .setExpiresAtMs(clock.instant().plus(settings.demoTokenLifetime()).toEpochMilli())
            .setUser(toProto(user))
            .build());
    response.onCompleted();
  }

  private void requireDemoMode() {
    if (!settings.demo()) {
      throw new RefusedException(
          ErrorReason.DEMO_TOKENS_DISABLED,
          "demo tokens are disabled on this server (watchparty.auth.demo=false)");
    }
  }

  private static DemoUser toProto(Identity u) {
    return DemoUser.newBuilder()
        .setUserId(u.userId())
        .setDisplayName(u.displayName())
        .setRegion(u.region())
        .setSubscribed(u.subscribed())
        .setAdmin(u.admin())
        .setRelay(u.relay())
        .build();
  }
}
