package io.watchparty.server.rpc;

import io.grpc.stub.StreamObserver;
import io.watchparty.proto.v1.CatalogAdminServiceGrpc;
import io.watchparty.proto.v1.ClearAvailabilityRequest;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.GetAvailabilityRequest;
import io.watchparty.proto.v1.SetAvailabilityRequest;
import io.watchparty.proto.v1.Title;
import io.watchparty.proto.v1.TitleAvailability;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.catalog.AvailabilityMatrix;
import io.watchparty.server.catalog.TitleCatalog;
import io.watchparty.server.refusal.Echo;
import io.watchparty.server.refusal.RefusedException;
import java.util.concurrent.CompletionStage;

/** Catalog administration, for tokens with the admin claim only. */
public final class CatalogAdminService extends CatalogAdminServiceGrpc.CatalogAdminServiceImplBase {
  private final TitleCatalog titles;
  private final AvailabilityMatrix availability;

  public CatalogAdminService(TitleCatalog titles, AvailabilityMatrix availability) {
    this.titles = titles;
    this.availability = availability;
  }

  @Override
  public void putTitle(Title request, StreamObserver<Title> response) {
    requireAdmin();
    Replies.whenDone(
        titles.put(CatalogMessages.fromProto(request)).thenApply(stored -> request), response);
  }

  @Override
  public void setAvailability(
      SetAvailabilityRequest request, StreamObserver<TitleAvailability> response) {
    requireAdmin();
    Replies.whenDone(
        existingTitle(request.getTitleId())
            .thenCompose(
                titleId ->
                    availability.set(
                        titleId,
                        region(request.getRegion()),
                        CatalogMessages.fromProto(request.getWindow())))
            .thenApply(CatalogAdminService::toProto),
        response);
  }

  @Override
  public void clearAvailability(
      ClearAvailabilityRequest request, StreamObserver<TitleAvailability> response) {
    requireAdmin();
    Replies.whenDone(
        existingTitle(request.getTitleId())
            .thenCompose(titleId -> availability.clear(titleId, region(request.getRegion())))
            .thenApply(CatalogAdminService::toProto),
        response);
  }

  @Override
  public void getAvailability(
      GetAvailabilityRequest request, StreamObserver<TitleAvailability> response) {
    requireAdmin();
    Replies.whenDone(
        existingTitle(request.getTitleId())
            .thenCompose(availability::of)
            .thenApply(CatalogAdminService::toProto),
        response);
  }

  private static TitleAvailability toProto(
      io.watchparty.server.catalog.TitleAvailability availability) {
    var reply = TitleAvailability.newBuilder().setTitleId(availability.titleId());
    availability
        .windows()
        .forEach((region, window) -> reply.putWindows(region, CatalogMessages.toProto(window)));
    return reply.build();
  }

  private CompletionStage<String> existingTitle(String titleId) {
    return titles.require(titleId).thenApply(io.watchparty.server.catalog.Title::titleId);
  }

  private static String region(String region) {
    if (!Identity.isRegion(region)) {
      throw new RefusedException(
          ErrorReason.INVALID_REGION,
          "region must be an ISO 3166-1 alpha-2 code in upper case, got " + Echo.quoted(region));
    }
    return region;
  }

  private static void requireAdmin() {
    if (!AuthInterceptor.currentIdentity().admin()) {
      throw new RefusedException(
          ErrorReason.NOT_ADMIN, "only catalog administrators may change the catalog");
    }
  }
}
