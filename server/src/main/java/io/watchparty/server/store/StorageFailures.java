package io.watchparty.server.store;

import com.datastax.oss.driver.api.core.DriverException;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.RefusedException;
import java.util.Optional;

/**
 * What a failure of the Cassandra driver means for a caller: storage is unavailable for now, and
 * nothing about nodes or queries is shown. The gRPC layer asks this through its error mapper, so it
 * never sees driver types itself.
 */
public final class StorageFailures {
  private StorageFailures() {}

  /** {@code STORAGE_UNAVAILABLE} for a driver failure; empty for anything else. */
  public static Optional<RefusedException> refusalFor(Throwable failure) {
    if (failure instanceof DriverException) {
      return Optional.of(
          new RefusedException(
              ErrorReason.STORAGE_UNAVAILABLE, "storage is unreachable at the moment; try again"));
    }
    return Optional.empty();
  }
}
