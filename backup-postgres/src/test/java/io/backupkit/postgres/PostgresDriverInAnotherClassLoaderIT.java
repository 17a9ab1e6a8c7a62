package io.backupkit.postgres;

import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * pgjdbc in a class loader that cannot see backupkit (an application's, or a server's shared library), backupkit in
 * a child of it (a plugin's), and a thread context class loader that cannot see backupkit either: pgjdbc cannot load
 * the socket factory that COPY sessions name ({@code JdbcCopy.TapSocketFactory}), through its own loader or the
 * context loader. The COPY then comes row by row through the driver, with the driver's bytes, and a backup restores
 * exactly. Where the context loader is backupkit's, pgjdbc (42.7) loads the factory through it and reads in bulk.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PostgresDriverInAnotherClassLoaderIT {
    private static final String HELPER = "io.backupkit.postgres.internal.DriverElsewhere";
    private static final String COPY = "COPY (SELECT * FROM t ORDER BY id) TO STDOUT";

    static EphemeralPostgres pg;
    /** pgjdbc alone, on the platform class loader. */
    static URLClassLoader driverLoader;
    /** backupkit and everything else of the test class path but pgjdbc, a child of {@link #driverLoader}. */
    URLClassLoader backupkitLoader;

    @BeforeAll
    static void start() throws Exception {
        pg = EphemeralPostgres.start();
        pg.createDatabase("elsewhere");
        // rows with what COPY escapes (tab, newline, backslash), NULLs, empty strings, non-ASCII, bytea; a few MiB
        pg.execute("elsewhere", """
                CREATE TABLE t (id int PRIMARY KEY, v text, b bytea);
                INSERT INTO t SELECT i, CASE WHEN i % 7 = 0 THEN NULL WHEN i % 11 = 0 THEN ''
                    ELSE repeat(E'tab\\there\\nnew line\\\\back é€ ', i % 20) END, decode(md5(i::text), 'hex')
                FROM generate_series(1, 30000) i;
                CREATE TABLE small (k text PRIMARY KEY, n numeric);
                INSERT INTO small SELECT 'k' || i, i / 3.0 FROM generate_series(1, 100) i;
                CREATE SEQUENCE s;
                SELECT setval('s', 777);
                SELECT lo_from_bytea(0, 'a large object'::bytea);
                """);
        URL pgjdbc = org.postgresql.Driver.class.getProtectionDomain().getCodeSource().getLocation();
        driverLoader = new URLClassLoader("pgjdbc", new URL[]{pgjdbc}, ClassLoader.getPlatformClassLoader());
        // registers this pgjdbc with DriverManager, as an application does with its driver
        Class.forName("org.postgresql.Driver", true, driverLoader);
    }

    @AfterAll
    static void stop() throws Exception {
        if (driverLoader != null) {
            // DriverManager lets only a class that sees a driver remove it: pgjdbc's own Driver does
            driverLoader.loadClass("org.postgresql.Driver").getMethod("deregister").invoke(null);
            driverLoader.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    /** A fresh backupkit class loader per test: no thread of an earlier test's pools, with its context loader, is reused. */
    @BeforeEach
    void backupkitLoader() throws Exception {
        URL pgjdbc = org.postgresql.Driver.class.getProtectionDomain().getCodeSource().getLocation();
        List<URL> urls = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            URL url = Path.of(entry).toUri().toURL();
            if (!url.sameFile(pgjdbc)) {
                urls.add(url);
            }
        }
        backupkitLoader = new URLClassLoader("backupkit", urls.toArray(URL[]::new), driverLoader);
        assertEquals(driverLoader, backupkitLoader.loadClass("org.postgresql.Driver").getClassLoader(), "one pgjdbc, the parent's");
        assertEquals(backupkitLoader, backupkitLoader.loadClass(HELPER).getClassLoader());
    }

    @AfterEach
    void closeBackupkitLoader() throws Exception {
        backupkitLoader.close();
    }

    /** Calls a static method of {@code DriverElsewhere} in the backupkit class loader, on a thread whose context loader is {@code context}. */
    private Object call(ClassLoader context, String method, Object... args) throws Exception {
        Class<?>[] types = new Class<?>[args.length];
        java.util.Arrays.fill(types, String.class);
        java.lang.reflect.Method m = backupkitLoader.loadClass(HELPER).getMethod(method, types);
        AtomicReference<Object> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                result.set(m.invoke(null, args));
            } catch (InvocationTargetException e) {
                failure.set(e.getCause());
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "in-backupkit-loader");
        t.setContextClassLoader(context);
        t.start();
        t.join();
        if (failure.get() instanceof Exception e) {
            throw e;
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        return result.get();
    }

    /** The driver's own COPY, in this test's class loader: the reference. */
    private static byte[] reference(String sql) throws Exception {
        try (Connection c = pg.connect("elsewhere")) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            c.unwrap(PGConnection.class).getCopyAPI().copyOut(sql, out);
            return out.toByteArray();
        }
    }

    @Test
    void aDriverThatCannotLoadTheSocketFactory_givesTheRowsOneByOne_withTheDriversBytes() throws Exception {
        String factory = "io.backupkit.postgres.internal.JdbcCopy$TapSocketFactory";
        assertThrows(ClassNotFoundException.class, () -> Class.forName(factory, false, driverLoader), "the condition is real");
        byte[] expected = reference(COPY);
        Object[] copy = (Object[]) call(driverLoader, "copy", pg.jdbcUrl("elsewhere"), pg.user(), pg.password(), COPY);
        assertEquals(false, copy[0], "pgjdbc cannot load the socket factory: rows one by one");
        assertEquals(30_000L, copy[1]);
        assertArrayEquals(expected, (byte[]) copy[2]);
    }

    @Test
    void aBackup_whereTheDriverCannotLoadTheSocketFactory_restoresExactly(@TempDir Path dir) throws Exception {
        Object rowByRow = call(driverLoader, "backupAndRestore", pg.jdbcUrl("elsewhere"), pg.jdbcUrl("postgres"), pg.user(),
                pg.password(), dir.resolve("repo").toString(), "elsewhere_restored");
        try {
            assertTrue((Long) rowByRow > 0, "the backup's COPY sessions read row by row: " + rowByRow);
            assertEquals(DbDigest.tables(pg, "elsewhere"), DbDigest.tables(pg, "elsewhere_restored"));
            assertEquals(DbDigest.sequences(pg, "elsewhere"), DbDigest.sequences(pg, "elsewhere_restored"));
            assertEquals(DbDigest.largeObjects(pg, "elsewhere"), DbDigest.largeObjects(pg, "elsewhere_restored"));
            assertNotEquals("0", pg.queryForString("elsewhere_restored", "SELECT count(*) FROM t"));
        } finally {
            pg.dropDatabase("elsewhere_restored");
        }
    }

    @Test
    void aContextLoaderThatSeesBackupkit_letsTheDriverLoadTheSocketFactory_inBulk() throws Exception {
        byte[] expected = reference(COPY);
        Object[] copy = (Object[]) call(backupkitLoader, "copy", pg.jdbcUrl("elsewhere"), pg.user(), pg.password(), COPY);
        assertTrue((Boolean) copy[0], "pgjdbc loads the socket factory through the context loader");
        assertEquals(30_000L, copy[1]);
        assertArrayEquals(expected, (byte[]) copy[2]);
        assertFalse(expected.length < 1 << 20, "a COPY of a few MiB: " + expected.length);
    }
}
