package io.watchparty.server.rpc;

import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.CatalogServiceGrpc;
import io.watchparty.proto.v1.GetTitleRequest;
import io.watchparty.proto.v1.ListTitlesRequest;
import io.watchparty.proto.v1.ListTitlesResponse;
import io.watchparty.proto.v1.TitleInfo;
import io.watchparty.server.catalog.AvailabilityMatrix;
import io.watchparty.server.catalog.Title;
import io.watchparty.server.catalog.TitleCatalog;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CompletableFuture;

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
    String region = AuthInterceptor.currentIdentity().region();
    Instant now = clock.instant();
    Replies.whenDone(
        titles
            .all()
            .thenCompose(
                all -> {
                  List<CompletableFuture<TitleInfo>> infos =
                      all.stream().map(t -> info(t, region, now)).toList();
                  return CompletableFuture.allOf(infos.toArray(CompletableFuture[]::new))
                      .thenApply(
                          done ->
                              ListTitlesResponse.newBuilder()
                                  // all done: join only reads each value
                                  .addAllTitles(
                                      infos.stream().map(CompletableFuture::join).toList())
                                  .build());
                }),
        response);
  }

  @Override
  public void getTitle(GetTitleRequest request, StreamObserver<TitleInfo> response) {
    String region = AuthInterceptor.currentIdentity().region();
    Instant now = clock.instant();
    Replies.whenDone(
        titles.require(request.getTitleId()).thenCompose(title -> info(title, region, now)),
        response);
  }

  private CompletableFuture<TitleInfo> info(Title title, String region, Instant now) {
    return availability
        .of(title.titleId())
        .thenApply(
            rights -> {
              var info =
                  TitleInfo.newBuilder()
                      .setTitle(CatalogMessages.toProto(title))
                      .setCanWatch(rights.canWatch(region, now))
                      .setRegion(region);
              rights.window(region).ifPresent(w -> info.setWindow(CatalogMessages.toProto(w)));
              return info.build();
            });
  }
}
