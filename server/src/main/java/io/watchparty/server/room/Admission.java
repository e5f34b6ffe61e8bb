package io.watchparty.server.room;

import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.proto.v1.Visibility;
import io.watchparty.server.auth.Identity;
import io.watchparty.server.refusal.RefusedException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * Who may come in: the rules every viewer passes, joining by stream or served by a relay
 * (subscription, bans, the title's licence in their region, a private room's invite), and who may
 * see a private room described. Those already in the party pass without an invite and are not kept
 * out by the licence; whether someone is in a stored party is read from storage only when it would
 * change the answer. Guarded by the room lock, except {@link #admitting}, which takes no lock
 * itself.
 */
final class Admission {
  /** Refusals that a party member does not get (see {@link #requireAdmissible}). */
  private static final Set<ErrorReason> REFUSED_TO_NEWCOMERS =
      Set.of(ErrorReason.INVITE_TOKEN_INVALID, ErrorReason.TITLE_NOT_AVAILABLE_IN_REGION);

  private final RoomContext room;
  private final Roles roles;
  private final PartyMembership party;
  private final RoomLicence licence;

  /** Runs storage's answer (off the driver's threads) before the second attempt takes the lock. */
  private final Executor executor;

  Admission(
      RoomContext room,
      Roles roles,
      PartyMembership party,
      RoomLicence licence,
      Executor executor) {
    this.room = room;
    this.roles = roles;
    this.party = party;
    this.licence = licence;
    this.executor = executor;
  }

  /**
   * Runs an admission ({@code attempt}, which takes the lock and calls {@link #requireAdmissible})
   * first as if {@code who} were in no stored party; only when that is refused for a reason that
   * spares party members (no invite, a title their region lacks) does it ask storage whether they
   * are one, and try again with the answer. Most joins so never read storage. Called without the
   * lock.
   */
  <T> CompletionStage<T> admitting(Identity who, Function<Boolean, T> attempt) {
    try {
      return CompletableFuture.completedFuture(attempt.apply(false));
    } catch (RefusedException refused) {
      if (!REFUSED_TO_NEWCOMERS.contains(refused.reason())) {
        return CompletableFuture.failedFuture(refused);
      }
      return party
          .storedMember(who.userId())
          .thenApplyAsync(
              member -> {
                if (!member) {
                  throw refused;
                }
                return attempt.apply(true);
              },
              executor);
    } catch (RuntimeException failed) {
      return CompletableFuture.failedFuture(failed);
    }
  }

  /**
   * Refuses {@code who} unless they may watch here. Those already in, present members, the host and
   * co-hosts, and party members ({@code storedMember}: storage's answer, unless this instance
   * decided since), need no current invite to a private room and are not kept out by the title's
   * licence.
   */
  void requireAdmissible(Identity who, String inviteToken, boolean storedMember) {
    RoomRegistry.requireSubscribed(who);
    roles.requireNotBanned(who.userId());
    boolean known =
        room.isMember(who.userId())
            || roles.isController(who.userId())
            || party.decided(who.userId()).orElse(storedMember);
    if (known) {
      // Already in the party: a title their region lacks (a title change, a window that ended)
      // keeps them in it, told why they cannot play, so they come back to it (a new tab, a
      // reconnection) the same way. Only newcomers are kept out.
      return;
    }
    licence.requireWatchable(who.region());
    if (!roles.mayEnterWith(room.settings().getVisibility(), inviteToken)) {
      throw new RefusedException(
          ErrorReason.INVITE_TOKEN_INVALID,
          "this private room needs a current invite link",
          Map.of("room_id", room.roomId().toString()));
    }
  }

  /** Whether {@code userId} may see this room described (a private one needs an invite). */
  boolean mayDescribeTo(String userId, String offeredInviteToken) {
    Visibility visibility = room.settings().getVisibility();
    return visibility == Visibility.PUBLIC
        || room.isMember(userId)
        || roles.isController(userId)
        || roles.mayEnterWith(visibility, offeredInviteToken);
  }
}
