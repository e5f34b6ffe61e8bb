package io.watchparty.server.room;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.RoomInfo;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.refusal.RefusedException;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The rules of the public directory (ListPublicRooms): only public rooms are listed, never private
 * ones, busiest first (then newest, then by id, so pages do not shuffle between calls), a page at a
 * time. A page token is where the next page starts in that order, opaque to clients.
 *
 * <p>The directory is ordered as a whole: every page reads every listed room (see {@link
 * RoomRegistry#publicRooms}), which is fine for one server's thousands of rooms, not for a fleet's.
 */
public final class PublicDirectory {
  static final int DEFAULT_PAGE_SIZE = 20;
  static final int MAX_PAGE_SIZE = 100;

  /** Busiest first, then newest, then by id. */
  static final Comparator<RoomInfo> ORDER =
      Comparator.comparingLong(RoomInfo::getMemberCount)
          .reversed()
          .thenComparing(Comparator.comparingLong(RoomInfo::getCreatedAtMs).reversed())
          .thenComparing(RoomInfo::getRoomId);

  /**
   * One page of the directory and the token of the next, if there is one.
   *
   * @param rooms the page's rooms, in directory order
   * @param next where the next page starts; empty on the last page
   */
  public record Page(List<RoomInfo> rooms, Optional<String> next) {}

  /** A request for one page: where it starts and how many rooms it holds. */
  public record Request(int offset, int size) {

    /**
     * The request a client made: {@code pageSize} 0 asks for the default size, {@code pageToken}
     * empty for the first page.
     *
     * @throws RefusedException PAGE_SIZE_OUT_OF_RANGE or INVALID_PAGE_TOKEN
     */
    public static Request of(int pageSize, String pageToken) {
      int size = pageSize == 0 ? DEFAULT_PAGE_SIZE : pageSize;
      if (size < 1 || size > MAX_PAGE_SIZE) {
        throw new RefusedException(
            ErrorReason.PAGE_SIZE_OUT_OF_RANGE,
            "page_size must be 1.." + MAX_PAGE_SIZE + ", got " + pageSize);
      }
      return new Request(decode(pageToken), size);
    }
  }

  private PublicDirectory() {}

  /** The requested page of the rooms {@code listed}: public ones only, in directory order. */
  static Page page(List<RoomInfo> listed, Request request) {
    List<RoomInfo> all =
        listed.stream()
            .filter(info -> info.getSettings().getVisibility() == Visibility.PUBLIC)
            .sorted(ORDER)
            .toList();
    int end = Math.min(all.size(), request.offset() + request.size());
    return new Page(
        all.subList(Math.min(request.offset(), end), end),
        end < all.size() ? Optional.of(encode(end)) : Optional.empty());
  }

  private static String encode(int offset) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(ByteBuffer.allocate(4).putInt(offset).array());
  }

  private static int decode(String token) {
    if (token.isEmpty()) {
      return 0;
    }
    try {
      byte[] bytes = Base64.getUrlDecoder().decode(token);
      int offset = bytes.length == 4 ? ByteBuffer.wrap(bytes).getInt() : -1;
      if (offset >= 0) {
        return offset;
      }
    } catch (IllegalArgumentException malformed) {
      // refused below
    }
    throw new RefusedException(
        ErrorReason.INVALID_PAGE_TOKEN, "page_token is not one this server issued");
  }
}
