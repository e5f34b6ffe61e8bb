package io.watchparty.server.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import io.watchparty.server.store.Storage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(CassandraExtension.class)
class CassandraExtensionIT {
  private static Storage fromBeforeAll;

  private final CqlSession session;

  CassandraExtensionIT(CqlSession session) {
    this.session = session;
  }

  @BeforeAll
  static void keep(Storage storage) {
    fromBeforeAll = storage;
  }

  @Test
  void givesTheClassAFreshKeyspaceWithTheSchemaApplied(Storage storage) {
    assertThat(storage).isSameAs(fromBeforeAll);
    assertThat(storage.session()).isSameAs(session);
    assertThat(storage.keyspace()).matches("wp_test_cassandraextensionit_[0-9a-f]{8}");
    assertThat(session.getKeyspace())
        .hasValueSatisfying(k -> assertThat(k.asInternal()).isEqualTo(storage.keyspace()));
    assertThat(session.execute("SELECT version FROM schema_history WHERE version = 1").one())
        .isNotNull();
  }

  @Nested
  class WhenNested {
    @Test
    void sharesTheEnclosingClassKeyspace(Storage storage) {
      assertThat(storage).isSameAs(fromBeforeAll);
    }
  }
}
