package io.backupkit.postgres.testing;

import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.postgres.PostgresTarget;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * JUnit 5 extension that gives every test a fresh database, optionally seeded from a snapshot in a
 * backupkit repository. One server per test class (started before the first test, stopped after
 * the last); the snapshot is restored once into a template database, and each test gets a file
 * copy of it ({@code CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY}: seconds for GBs), made while
 * the previous test ran ({@link TestDatabasePool}), and dropped after the test.
 *
 * <pre>{@code
 * class OrderServiceTest {
 *     @RegisterExtension
 *     static PostgresDatabaseExtension pg = PostgresDatabaseExtension.builder()
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
 */
public final class PostgresDatabaseExtension implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(PostgresDatabaseExtension.class);
    private static final String TEMPLATE = "backupkit_seed_template";

    private final Supplier<? extends PostgresServer> serverFactory;
    private final Supplier<Repository> repository;
    private final String snapshot;

    private PostgresDatabaseExtension(Builder b) {
        this.serverFactory = b.serverFactory;
        this.repository = b.repository;
        this.snapshot = b.snapshot;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The class's server, started on first use. */
    public PostgresServer server(ExtensionContext context) {
        return state(context).server;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        state(context);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        // made while the previous test ran (TestDatabasePool): usually ready at once
        context.getStore(NS).put("db", state(context).databases.take());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        TestDatabase db = context.getStore(NS).remove("db", TestDatabase.class);
        if (db != null) {
            state(context).databases.release(db);
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        Class<?> type = parameterContext.getParameter().getType();
        return type == TestDatabase.class || PostgresServer.class.isAssignableFrom(type);
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
        PostgresServer server = serverFactory.get();
        boolean seeded = false;
        try {
            if (repository != null) {
                Repository repo = repository.get();
                try {
                    RestoreManager.builder()
                            .repository(repo)
                            .snapshot(snapshot)
                            .target(PostgresTarget.builder().url(server.jdbcUrl("postgres")).user(server.user())
                                    .password(server.password().toCharArray()).database(TEMPLATE)
                                    .toolDirectory(server.binDirectory().orElse(null)).build())
                            .build()
                            .restore();
                } finally {
                    repo.close();
                }
                seeded = true;
            }
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return new State(server, new TestDatabasePool(server, seeded ? TEMPLATE : null));
    }

    /** Closed by JUnit (5.13+ closes AutoCloseable store values) when the class's store goes away. */
    private static final class State implements AutoCloseable {
        final PostgresServer server;
        final TestDatabasePool databases;

        State(PostgresServer server, TestDatabasePool databases) {
            this.server = server;
            this.databases = databases;
        }

        @Override
        public void close() {
            try {
                databases.close();
            } finally {
                server.close();
            }
        }
    }

    /** Configures a {@link PostgresDatabaseExtension}. */
    public static final class Builder {
        private Supplier<? extends PostgresServer> serverFactory = EphemeralPostgres::start;
        private Supplier<Repository> repository;
        private String snapshot = "latest";

        private Builder() {
        }

        /** How to start the class's server (default {@link EphemeralPostgres#start()}). */
        public Builder server(Supplier<? extends PostgresServer> factory) {
            this.serverFactory = Objects.requireNonNull(factory);
            return this;
        }

        /** Seed every test database from this snapshot ("latest", an id or id prefix) of the repository (closed after seeding). */
        public Builder seedFrom(Supplier<Repository> repository, String snapshot) {
            this.repository = Objects.requireNonNull(repository);
            this.snapshot = Objects.requireNonNull(snapshot);
            return this;
        }

        public PostgresDatabaseExtension build() {
            return new PostgresDatabaseExtension(this);
        }
    }
}
