package io.watchparty.server.testing;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.helidon.config.Config;
import io.watchparty.server.store.LocalCassandraNode;
import io.watchparty.server.store.Storage;
import io.watchparty.server.store.StorageSettings;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Real Cassandra for integration tests: each test class gets a fresh keyspace with every schema
 * script applied.
 *
 * <pre>{@code
 * @ExtendWith(CassandraExtension.class)
 * class CassandraChatLogIT {
 *   private final CqlSession session;
 *
 *   CassandraChatLogIT(CqlSession session) {  // or Storage; also in @BeforeAll/@BeforeEach/@Test methods
 *     this.session = session;
 *   }
 * }
 * }</pre>
 *
 * <p>Once per test JVM the extension starts the local node, or reuses one that already answers (for
 * instance one left running by {@code LocalCassandraCommand start}), with the settings of {@link
 * StorageSettings#from} (system properties and environment; failsafe passes the jars directory). It
 * stops the node when the test run ends only if it started it. With {@code
 * watchparty.cassandra.hosts} set, tests run against that cluster instead.
 *
 * <p>Each test class (with its {@code @Nested} classes) gets its own keyspace, named {@code
 * wp_test_<class>_<random>}, which is dropped after the class. Parameters of type {@link Storage}
 * and {@link CqlSession} (bound to that keyspace) are injected. Tests of one class share the
 * keyspace, so they use their own ids rather than expect empty tables.
 *
 * <p>{@link TestServer} builds on it: a class that registers a server needs no {@code @ExtendWith}
 * of its own.
 */
public final class CassandraExtension implements BeforeAllCallback, ParameterResolver {
  private static final Namespace NAMESPACE = Namespace.create(CassandraExtension.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Duration DROP_TIMEOUT = Duration.ofSeconds(30);

  @Override
  public void beforeAll(ExtensionContext context) {
    classKeyspace(context);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == Storage.class || type == CqlSession.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Storage storage = classKeyspace(context).storage();
    return parameter.getParameter().getType() == Storage.class ? storage : storage.session();
  }

  /**
   * The keyspace of the test class running in {@code context}, a class's or a test method's: a
   * method's context asks its class's, so that a server started for one test still shares the
   * class's keyspace. For extensions that start servers over it ({@link TestServer}, the web
   * bridge's {@code Platform}); the class need not register this extension itself.
   */
  public static Storage storage(ExtensionContext context) {
    ExtensionContext classContext =
        context.getTestMethod().isPresent() ? context.getParent().orElseThrow() : context;
    return classKeyspace(classContext).storage();
  }

  /**
   * The keyspace of the test class of {@code context}. Opened lazily because a class with {@code
   * PER_CLASS} lifecycle needs it for its constructor before {@code beforeAll}; found in the
   * enclosing class's store by a {@code @Nested} class and by test methods.
   */
  private static ClassKeyspace classKeyspace(ExtensionContext context) {
    return context
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent(
            ClassKeyspace.class,
            key -> {
              StorageSettings settings =
                  context
                      .getRoot()
                      .getStore(NAMESPACE)
                      .getOrComputeIfAbsent(
                          SharedNode.class, k -> SharedNode.start(), SharedNode.class)
                      .settings();
              String keyspace = keyspaceFor(context.getRequiredTestClass());
              return new ClassKeyspace(Storage.open(settings.withKeyspace(keyspace)));
            },
            ClassKeyspace.class);
  }

  static String keyspaceFor(Class<?> testClass) {
    String name = testClass.getSimpleName().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
    byte[] random = new byte[4];
    RANDOM.nextBytes(random);
    return "wp_test_%s_%s"
        .formatted(
            name.substring(0, Math.min(name.length(), 24)), HexFormat.of().formatHex(random));
  }

  /**
   * The node of the whole test run, or why it could not start: the failure is kept so that every
   * test class reports it at once instead of each waiting for its own start to fail.
   */
  private record SharedNode(
      Optional<StorageSettings> started,
      Optional<LocalCassandraNode> node,
      Optional<RuntimeException> failure)
      implements AutoCloseable {

    static SharedNode start() {
      try {
        StorageSettings settings = StorageSettings.from(Config.create());
        Optional<LocalCassandraNode> node =
            settings.usesLocalNode()
                ? Optional.of(LocalCassandraNode.start(settings.local()))
                : Optional.empty();
        return new SharedNode(Optional.of(settings), node, Optional.empty());
      } catch (RuntimeException e) {
        return new SharedNode(Optional.empty(), Optional.empty(), Optional.of(e));
      }
    }

    StorageSettings settings() {
      if (failure.isPresent()) {
        throw failure.get();
      }
      return started.orElseThrow();
    }

    /** Called by JUnit when the test run ends; stops the node only if it was started here. */
    @Override
    public void close() {
      node.ifPresent(LocalCassandraNode::close);
    }
  }

  /** A test class's keyspace, dropped by JUnit when the class is done. */
  private record ClassKeyspace(Storage storage) implements AutoCloseable {
    @Override
    public void close() {
      try (storage) {
        storage
            .session()
            .execute(
                SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS " + storage.keyspace())
                    .setTimeout(DROP_TIMEOUT));
      }
    }
  }
}
