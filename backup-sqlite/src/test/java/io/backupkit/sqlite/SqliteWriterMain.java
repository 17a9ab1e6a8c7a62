package io.backupkit.sqlite;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.Random;

/**
 * A child process for tests: writes transfers into a database continuously (each one transaction
 * that keeps the bank invariant), printing "ready" after the first commit and a count every 100.
 * Modes: {@code write} (until killed) and {@code hold-exclusive} (takes an exclusive lock and keeps it
 * until stdin closes).
 */
public final class SqliteWriterMain {
    private SqliteWriterMain() {
    }

    public static void main(String[] args) throws Exception {
        Path db = Path.of(args[1]);
        try (Connection c = SqliteTestData.connect(db); Statement s = c.createStatement()) {
            s.execute("PRAGMA busy_timeout=60000");
            if (args[0].equals("hold-exclusive")) {
                s.execute("BEGIN EXCLUSIVE");
                System.out.println("ready");
                System.out.flush();
                while (System.in.read() >= 0) {
                    // hold the lock until the parent closes our stdin or kills us
                }
                s.execute("ROLLBACK");
                return;
            }
            Random r = new Random(42);
            c.setAutoCommit(false);
            long n = 0;
            byte[] note = new byte[300];
            try (PreparedStatement debit = c.prepareStatement("UPDATE accounts SET balance = balance - ? WHERE id = ?");
                 PreparedStatement credit = c.prepareStatement("UPDATE accounts SET balance = balance + ? WHERE id = ?");
                 PreparedStatement log = c.prepareStatement("INSERT INTO transfers(src, dst, amount, note) VALUES (?, ?, ?, ?)");
                 PreparedStatement count = c.prepareStatement("UPDATE counter SET transfers = transfers + 1")) {
                while (true) {
                    int a = 1 + r.nextInt(SqliteTestData.ACCOUNTS);
                    int b = 1 + r.nextInt(SqliteTestData.ACCOUNTS);
                    int amount = 1 + r.nextInt(100);
                    debit.setInt(1, amount);
                    debit.setInt(2, a);
                    debit.executeUpdate();
                    credit.setInt(1, amount);
                    credit.setInt(2, b);
                    credit.executeUpdate();
                    r.nextBytes(note);
                    log.setInt(1, a);
                    log.setInt(2, b);
                    log.setInt(3, amount);
                    log.setString(4, java.util.HexFormat.of().formatHex(note));
                    log.executeUpdate();
                    count.executeUpdate();
                    c.commit();
                    n++;
                    if (n == 1 || n % 100 == 0) {
                        System.out.println(n == 1 ? "ready" : "committed " + n);
                        System.out.flush();
                    }
                }
            }
        }
    }
}
