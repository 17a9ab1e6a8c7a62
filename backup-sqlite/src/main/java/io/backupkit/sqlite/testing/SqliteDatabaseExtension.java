package io.backupkit.sqlite.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension: every test parameter of type {@link TemporarySqliteDatabase} gets a new database
 * (WAL mode), deleted after the test.
 *
 * <pre>{@code
 * @ExtendWith(SqliteDatabaseExtension.class)
 * class MyBackupTest {
 *     @Test
 *     void backsUp(TemporarySqliteDatabase db) { ... db.path() ... }
 * }
 * }</pre>
 *
 * <p>Needs {@code junit-jupiter-api} on the test class path (backup-sqlite declares it optional, so
 * it never reaches a production class path).
 */
public final class SqliteDatabaseExtension implements ParameterResolver {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(SqliteDatabaseExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        return p.getParameter().getType() == TemporarySqliteDatabase.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        TemporarySqliteDatabase db = TemporarySqliteDatabase.create(true);
        // closed by JUnit when the test's store is closed, after the test
        e.getStore(NS).put(p.getIndex() + "@" + System.identityHashCode(db), (ExtensionContext.Store.CloseableResource) db::close);
        return db;
    }
}
