package io.backupkit.mysql.testing;

import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.mysql.MySqlTarget;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * JUnit 5 extension that gives every test a fresh MariaDB database, optionally restored from a
 * snapshot in a backupkit repository. One server per test class (started before the first test,
 * stopped after the last). MySQL has no template databases, so a seeded database is restored from
 * the snapshot for each test: keep seed snapshots small.
 *
 * <pre>{@code
 * class OrderServiceTest {
 *     @RegisterExtension
 *     static MariaDbDatabaseExtension mariadb = MariaDbDatabaseExtension.builder()
 *             .seedFrom(() -> Repository.builder().location("/backups/shop").password(pw).open(), "latest")
 *             .build();
 *
 *     @Test
 *     void placesOrder(TestDatabase db) {
 *         OrderService service = new OrderService(db.jdbcUrl(), db.user(), db.password());
 *         ...
 *     }
 * }
 * }</pre>
 *
 * <p>This class needs JUnit Jupiter on the class path, which backup-mysql declares optional: a
 * service embedding backup-mysql for production backups does not carry it.
 */
public final class MariaDbDatabaseExtension implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(MariaDbDatabaseExtension.class);

    private final Supplier<? extends MySqlServer> serverFactory;
    private final Supplier<Repository> repository;
    private final String snapshot;
    private final AtomicInteger counter = new AtomicInteger();

    private MariaDbDatabaseExtension(Builder b) {
        this.serverFactory = b.serverFactory;
        this.repository = b.repository;
        this.snapshot = b.snapshot;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The class's server, started on first use. */
    public MySqlServer server(ExtensionContext context) {
        return state(context).server;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        state(context);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        State state = state(context);
        String name = "test_" + counter.incrementAndGet() + "_" + Long.toHexString(System.nanoTime() & 0xffffff);
        if (state.repository != null) {
            RestoreManager.builder().repository(state.repository).snapshot(snapshot)
                    .target(MySqlTarget.builder().url(state.server.uri(name)).user(state.server.user())
                            .password(state.server.password().toCharArray()).build())
                    .build().restore();
        } else {
            state.server.createDatabase(name);
        }
        context.getStore(NS).put("db", new TestDatabase(state.server, name));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        TestDatabase db = context.getStore(NS).remove("db", TestDatabase.class);
        if (db != null) {
            db.server().dropDatabase(db.name());
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        Class<?> type = parameterContext.getParameter().getType();
        return type == TestDatabase.class || MySqlServer.class.isAssignableFrom(type);
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        Class<?> type = parameterContext.getParameter().getType();
        if (type == TestDatabase.class) {
            TestDatabase db = extensionContext.getStore(NS).get("db", TestDatabase.class);
            if (db == null) {
                throw new IllegalStateException("a TestDatabase exists only inside a test method, not in " + extensionContext.getDisplayName());
            }
            return db;
        }
        return state(extensionContext).server;
    }

    private State state(ExtensionContext context) {
        ExtensionContext classContext = context;
        while (classContext.getTestMethod().isPresent() && classContext.getParent().isPresent()) {
            classContext = classContext.getParent().get();
        }
        return classContext.getStore(NS).getOrComputeIfAbsent(State.class, k -> start(), State.class);
    }

    private State start() {
        MySqlServer server = serverFactory.get();
        try {
            return new State(server, repository == null ? null : repository.get());
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /** Closed by JUnit (5.13+ closes AutoCloseable store values) when the class's store goes away. */
    private static final class State implements AutoCloseable {
        final MySqlServer server;
        final Repository repository;

        State(MySqlServer server, Repository repository) {
            this.server = server;
            this.repository = repository;
        }

        @Override
        public void close() {
            try {
                if (repository != null) {
                    repository.close();
                }
            } finally {
                server.close();
            }
        }
    }

    /** Configures a {@link MariaDbDatabaseExtension}. */
    public static final class Builder {
        private Supplier<? extends MySqlServer> serverFactory = EphemeralMariaDb::start;
        private Supplier<Repository> repository;
        private String snapshot = "latest";

        private Builder() {
        }

        /** How to start the class's server (default {@link EphemeralMariaDb#start()}). */
        public Builder server(Supplier<? extends MySqlServer> factory) {
            this.serverFactory = Objects.requireNonNull(factory);
            return this;
        }

        /** Restore every test database from this snapshot ("latest", an id or id prefix) of the repository (closed after the class). */
        public Builder seedFrom(Supplier<Repository> repository, String snapshot) {
            this.repository = Objects.requireNonNull(repository);
            this.snapshot = Objects.requireNonNull(snapshot);
            return this;
        }

        public MariaDbDatabaseExtension build() {
            return new MariaDbDatabaseExtension(this);
        }
    }
}
