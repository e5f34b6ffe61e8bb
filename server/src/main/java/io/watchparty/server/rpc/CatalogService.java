package io.watchparty.server.rpc;

import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.CatalogServiceGrpc;
import io.watchparty.proto.v1.GetTitleRequest;
import io.watchparty.proto.v1.ListTitlesRequest;
import io.watchparty.proto.v1.ListTitlesResponse;
import io.watchparty.proto.v1.TitleInfo;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.catalog.AvailabilityMatrix;
import io.watchparty.server.catalog.Title;
import io.watchparty.server.catalog.TitleAvailability;
import io.watchparty.server.catalog.TitleCatalog;
import java.time.Instant;
import java.time.InstantSource;

/** The catalog as the caller sees it: each title, and whether the caller's region may watch it. */
public final class CatalogService extends CatalogServiceGrpc.CatalogServiceImplBase {
  private final TitleCatalog titles;
  private final AvailabilityMatrix availability;
  private final InstantSource clock;

  public CatalogService(TitleCatalog titles, AvailabilityMatrix availability, InstantSource clock) {
    this.titles = titles;
    this.availability = availability;
    this.clock = clock;
  }

  @Override
  public void listTitles(ListTitlesRequest request, StreamObserver<ListTitlesResponse> response) {
    Identity who = AuthInterceptor.currentIdentity();
    Instant now = clock.instant();
    var reply = ListTitlesResponse.newBuilder();
    titles.all().forEach(t -> reply.addTitles(info(t, who.region(), now)));
    response.onNext(reply.build());
    response.onCompleted();
  }

  @Override
  public void getTitle(GetTitleRequest request, StreamObserver<TitleInfo> response) {
    Title title = titles.require(request.getTitleId());
    response.onNext(info(title, AuthInterceptor.currentIdentity().region(), clock.instant()));
    response.onCompleted();
  }

  private TitleInfo info(Title title, String region, Instant now) {
    TitleAvailability rights = availability.of(title.titleId());
    var info =
        TitleInfo.newBuilder()
            .setTitle(CatalogMessages.toProto(title))
            .setCanWatch(rights.canWatch(region, now))
            .setRegion(region);
    rights.window(region).ifPresent(w -> info.setWindow(CatalogMessages.toProto(w)));
    return info.build();
  }
}
