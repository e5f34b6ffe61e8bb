package io.watchparty.server.room;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.RoomInfo;
import io.watchparty.proto.v1.RoomSettings;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.refusal.RefusedException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The directory's rules, on room descriptions alone: what is listed, in what order, by pages. */
class PublicDirectoryTest {

  private static RoomInfo room(String id, Visibility visibility, long members, long createdAtMs) {
    return RoomInfo.newBuilder()
        .setRoomId(id)
        .setSettings(RoomSettings.newBuilder().setVisibility(visibility))
        .setMemberCount(members)
        .setCreatedAtMs(createdAtMs)
        .build();
  }

  @Test
  void listsPublicRoomsOnlyBusiestThenNewestThenById() {
    List<RoomInfo> listed =
        List.of(
            room("quiet-old", Visibility.PUBLIC, 1, 100),
            room("secret", Visibility.PRIVATE, 50, 500),
            room("busy", Visibility.PUBLIC, 9, 100),
            room("quiet-new", Visibility.PUBLIC, 1, 300),
            room("quiet-b", Visibility.PUBLIC, 1, 100));

    PublicDirectory.Page page = PublicDirectory.page(listed, PublicDirectory.Request.of(0, ""));

    assertThat(page.rooms())
        .extracting(RoomInfo::getRoomId)
        .containsExactly("busy", "quiet-new", "quiet-b", "quiet-old");
    assertThat(page.next()).isEmpty();
  }

  @Test
  void pagesWalkTheWholeDirectoryOnceWithTheTokensTheyGive() {
    List<RoomInfo> listed = new ArrayList<>();
    for (int i = 0; i < 45; i++) {
      listed.add(room("room-%02d".formatted(i), Visibility.PUBLIC, i % 7, i));
    }
    List<String> seen = new ArrayList<>();
    String token = "";
    int pages = 0;
    do {
      PublicDirectory.Page page =
          PublicDirectory.page(listed, PublicDirectory.Request.of(20, token));
      page.rooms().forEach(r -> seen.add(r.getRoomId()));
      token = page.next().orElse("");
      pages++;
    } while (!token.isEmpty());

    assertThat(pages).isEqualTo(3);
    assertThat(seen)
        .hasSize(45)
        .doesNotHaveDuplicates()
        .isEqualTo(listed.stream().sorted(PublicDirectory.ORDER).map(RoomInfo::getRoomId).toList());
  }

  @Test
  void refusesPageSizesOutOfRangeAndTokensItDidNotIssue() {
    assertThatThrownBy(() -> PublicDirectory.Request.of(101, ""))
        .isInstanceOfSatisfying(
            RefusedException.class,
            e -> assertThat(e.reason()).isEqualTo(ErrorReason.PAGE_SIZE_OUT_OF_RANGE));
    assertThatThrownBy(() -> PublicDirectory.Request.of(-1, ""))
        .isInstanceOfSatisfying(
            RefusedException.class,
            e -> assertThat(e.reason()).isEqualTo(ErrorReason.PAGE_SIZE_OUT_OF_RANGE));
    for (String token : List.of("not base64!", "AAAAAAAA", "_____w")) {
      assertThatThrownBy(() -> PublicDirectory.Request.of(10, token))
          .isInstanceOfSatisfying(
              RefusedException.class,
              e -> assertThat(e.reason()).isEqualTo(ErrorReason.INVALID_PAGE_TOKEN));
    }
    assertThat(PublicDirectory.Request.of(0, "")).isEqualTo(new PublicDirectory.Request(0, 20));
  }
}
