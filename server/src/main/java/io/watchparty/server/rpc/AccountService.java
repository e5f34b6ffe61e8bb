package io.watchparty.server.rpc;

import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.Account;
import io.watchparty.proto.v1.AccountServiceGrpc;
import io.watchparty.proto.v1.GetAccountRequest;
import io.watchparty.server.auth.Identity;

/**
 * The {@code watchparty.v1.AccountService}: the caller's own account as read from their verified
 * token. The web bridge checks a token a browser brings with it and learns whom it serves.
 */
public final class AccountService extends AccountServiceGrpc.AccountServiceImplBase {
  @Override
  public void getAccount(GetAccountRequest request, StreamObserver<Account> response) {
    Identity who = AuthInterceptor.currentIdentity();
    response.onNext(
        Account.newBuilder()
            .setUserId(who.userId())
            .setDisplayName(who.displayName())
            .setRegion(who.region())
            .setSubscribed(who.subscribed())
            .setAdmin(who.admin())
            .setRelay(who.relay())
            .build());
    response.onCompleted();
  }
}
