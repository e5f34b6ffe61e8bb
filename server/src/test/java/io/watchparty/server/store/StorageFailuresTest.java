package io.watchparty.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.DriverTimeoutException;
import com.datastax.oss.driver.api.core.servererrors.OverloadedException;
import io.watchparty.proto.v1.ErrorReason;
import io.watchparty.server.refusal.RefusedException;
import org.junit.jupiter.api.Test;

class StorageFailuresTest {
  @Test
  void driverFailureIsStorageUnavailableWithoutItsDetails() {
    RefusedException refusal =
        StorageFailures.refusalFor(
                new DriverTimeoutException("Query timed out after PT2S on node 10.0.0.7:9042"))
            .orElseThrow();

    assertThat(refusal.reason()).isEqualTo(ErrorReason.STORAGE_UNAVAILABLE);
    assertThat(refusal.getMessage())
        .isEqualTo("storage is unreachable at the moment; try again")
        .doesNotContain("10.0.0.7");
    assertThat(refusal.details()).isEmpty();
  }

  @Test
  void serverSideDriverFailureIsStorageUnavailable() {
    assertThat(StorageFailures.refusalFor(new OverloadedException(null, "node overloaded")))
        .hasValueSatisfying(r -> assertThat(r.reason()).isEqualTo(ErrorReason.STORAGE_UNAVAILABLE));
  }

  @Test
  void otherFailuresAreNotStorageFailures() {
    assertThat(StorageFailures.refusalFor(new IllegalStateException("bug"))).isEmpty();
  }
}
