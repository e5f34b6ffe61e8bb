package io.watchparty.bridge;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.grpc.StatusRuntimeException;
import io.watchparty.bridge.relay.Viewer;
import io.watchparty.bridge.relay.WatchabilityCheck;
import io.watchparty.proto.v1.CatalogServiceGrpc;
import io.watchparty.proto.v1.GetTitleRequest;
import io.watchparty.proto.v1.TitleInfo;
import io.watchparty.proto.v1.Watchability;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the catalog under the user's own token whether they may watch a title. Answers depend only
 * on the user's region, so once a user's region is known their answer is shared with everyone of
 * that region for a short while: a title switch in a room of ten thousand browsers costs one call
 * per region, not one per browser.
 */
final class TitleWatchability implements WatchabilityCheck {
  private static final Logger log = LoggerFactory.getLogger(TitleWatchability.class);

  // The server re-checks licence windows about every 30 s and tells relays of each change for a
  // viewer (pushed), which replaces the answer kept here; without a viewer in that region to tell,
  // an answer may be as old as this.
  private static final Duration ANSWER_LIFETIME = Duration.ofSeconds(30);

  private final CatalogServiceGrpc.CatalogServiceBlockingStub catalog;
  private final Cache<String, String> regionOfUser =
      Caffeine.newBuilder().maximumSize(100_000).expireAfterAccess(Duration.ofHours(12)).build();
  private final Cache<String, Watchability> answers =
      Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(ANSWER_LIFETIME).build();

  TitleWatchability(Upstream upstream) {
    this.catalog = CatalogServiceGrpc.newBlockingStub(upstream.channel());
  }

  /** {@code userId}'s region, and the answer for everyone of that region. */
  private void remember(String userId, Watchability answer) {
    regionOfUser.put(userId, answer.getRegion());
    answers.put(key(answer.getRegion(), answer.getTitleId()), answer);
  }

  private static String key(String region, String titleId) {
    return region + "/" + titleId;
  }

  @Override
  public void pushed(Watchability notice) {
    if (notice.getRegion().isEmpty()) {
      return;
    }
    remember(notice.getUserId(), notice.toBuilder().clearUserId().build());
  }

  @Override
  public Optional<Watchability> check(Viewer viewer, String titleId) {
    String region = regionOfUser.getIfPresent(viewer.userId());
    if (region != null) {
      Watchability known = answers.getIfPresent(key(region, titleId));
      if (known != null) {
        return Optional.of(known);
      }
    }
    try {
      TitleInfo info =
          catalog
              .withCallCredentials(viewer.credentials())
              .withDeadlineAfter(5, TimeUnit.SECONDS)
              .getTitle(GetTitleRequest.newBuilder().setTitleId(titleId).build());
      Watchability answer =
          Watchability.newBuilder()
              .setTitleId(titleId)
              .setCanWatch(info.getCanWatch())
              .setRegion(info.getRegion())
              .setReason(info.getCanWatch() ? "" : "TITLE_NOT_AVAILABLE_IN_REGION")
              .setAvailableFromMs(
                  !info.getCanWatch() && info.getWindow().getFromMs() > System.currentTimeMillis()
                      ? info.getWindow().getFromMs()
                      : 0)
              .build();
      remember(viewer.userId(), answer);
      return Optional.of(answer);
    } catch (StatusRuntimeException e) {
      log.info(
          "Could not ask whether {} may watch {}: {}",
          viewer.userId(),
          titleId,
          e.getStatus().getCode());
      return Optional.empty();
    }
  }
}
