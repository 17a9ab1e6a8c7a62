package io.backupkit.postgres;

import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.postgres.testing.PostgresServer;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Shorthands for tests against an ephemeral cluster. */
final class PgTestSupport {
    private PgTestSupport() {
    }

    static PostgresSource source(PostgresServer pg, String db) {
        return PostgresSource.builder().url(pg.jdbcUrl(db)).user(pg.user()).password(pg.password().toCharArray()).build();
    }

    static PostgresTarget.Builder target(PostgresServer pg, String db) {
        return PostgresTarget.builder().url(pg.uri("postgres")).user(pg.user()).password(pg.password().toCharArray()).database(db);
    }

    /** pg_dump --schema-only of a database, without comments, blank lines and the random \restrict keys of 15.14+. */
    static String schemaDump(EphemeralPostgres pg, String db) {
        String dump = pg.runTool("pg_dump", "--schema-only", "--no-sync", "-d", db);
        return Arrays.stream(dump.split("\n"))
                .filter(l -> !l.startsWith("\\restrict") && !l.startsWith("\\unrestrict") && !l.startsWith("--") && !l.isBlank())
                .collect(Collectors.joining("\n"));
    }

    /** The broad schema of acceptance 2: one of each object kind pg_dump handles, with data. */
    static void createBroadSchema(PostgresServer pg, String db) {
        pg.execute("postgres", "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_reader') THEN "
                + "CREATE ROLE app_reader; END IF; END$$");
        pg.execute(db, """
                CREATE EXTENSION hstore;
                CREATE EXTENSION pg_trgm;
                CREATE EXTENSION citext;
                CREATE SCHEMA shop;
                COMMENT ON SCHEMA shop IS 'the shop';
                CREATE TYPE shop.status AS ENUM ('new', 'paid', 'shipped');
                CREATE DOMAIN shop.email AS citext CHECK (VALUE ~ '@');
                CREATE TYPE shop.money_pair AS (amount numeric(12,2), currency char(3));
                CREATE SEQUENCE shop.invoice_no START 1000;
                CREATE TABLE shop.customers (id bigserial PRIMARY KEY, email shop.email UNIQUE NOT NULL, name text NOT NULL,
                    attrs hstore, created timestamptz DEFAULT now());
                CREATE TABLE shop.orders (id bigserial, customer_id bigint REFERENCES shop.customers (id) ON DELETE CASCADE,
                    status shop.status NOT NULL DEFAULT 'new', net numeric(12,2) NOT NULL,
                    tax numeric(12,2) GENERATED ALWAYS AS (round(net * 0.2, 2)) STORED, total shop.money_pair,
                    invoice int DEFAULT nextval('shop.invoice_no'), placed date NOT NULL, PRIMARY KEY (id, placed))
                    PARTITION BY RANGE (placed);
                CREATE TABLE shop.orders_2025 PARTITION OF shop.orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
                CREATE TABLE shop.orders_2026 PARTITION OF shop.orders FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
                CREATE INDEX orders_customer ON shop.orders (customer_id);
                CREATE TABLE shop.events (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), payload jsonb);
                CREATE TABLE shop.click_events (url text NOT NULL) INHERITS (shop.events);
                CREATE TABLE shop.audit_log (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, msg text NOT NULL);
                CREATE TABLE shop."Kunden Übersicht ✓" ("Näme" text, "größe" int CHECK ("größe" > 0));
                CREATE TABLE shop.documents (id serial PRIMARY KEY, title text, content oid);
                CREATE UNLOGGED TABLE shop.cache (k text PRIMARY KEY, v text);
                ALTER TABLE shop.customers ENABLE ROW LEVEL SECURITY;
                CREATE POLICY customers_own ON shop.customers FOR SELECT TO app_reader USING (name = current_user);
                CREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.at := now(); RETURN NEW; END $$;
                CREATE TRIGGER events_touch BEFORE INSERT ON shop.events FOR EACH ROW EXECUTE FUNCTION shop.touch();
                CREATE VIEW shop.customer_totals AS SELECT c.id, c.name, sum(o.net) AS net
                    FROM shop.customers c LEFT JOIN shop.orders o ON o.customer_id = c.id GROUP BY c.id, c.name;
                CREATE MATERIALIZED VIEW shop.status_counts AS SELECT status, count(*) AS n FROM shop.orders GROUP BY status;
                CREATE UNIQUE INDEX status_counts_status ON shop.status_counts (status);
                CREATE INDEX customers_name_trgm ON shop.customers USING gin (name gin_trgm_ops);
                COMMENT ON TABLE shop.customers IS 'people who buy';
                COMMENT ON COLUMN shop.customers.email IS 'unique, case-insensitive';
                GRANT USAGE ON SCHEMA shop TO app_reader;
                GRANT SELECT ON shop.customers, shop.customer_totals TO app_reader;
                INSERT INTO shop.customers (email, name, attrs)
                    SELECT 'user' || i || '@example.com', 'User ' || i, hstore('tier', (i % 3)::text) FROM generate_series(1, 500) i;
                INSERT INTO shop.orders (customer_id, status, net, total, placed)
                    SELECT 1 + i % 500, (ARRAY['new', 'paid', 'shipped']::shop.status[])[1 + i % 3], i * 1.5,
                           ROW(i * 1.8, 'EUR')::shop.money_pair, date '2025-06-01' + (i % 400)
                    FROM generate_series(1, 3000) i;
                INSERT INTO shop.events (payload) SELECT jsonb_build_object('i', i) FROM generate_series(1, 100) i;
                INSERT INTO shop.click_events (payload, url) SELECT jsonb_build_object('c', i), '/p/' || i FROM generate_series(1, 50) i;
                INSERT INTO shop.audit_log (msg) SELECT 'entry ' || i FROM generate_series(1, 20) i;
                INSERT INTO shop."Kunden Übersicht ✓" VALUES ('Jörg', 180), ('Zoë', 165);
                INSERT INTO shop.documents (title, content) VALUES ('hello', lo_from_bytea(0, 'hello world'::bytea)),
                    ('big', lo_from_bytea(0, decode(repeat('ab', 100000), 'hex')));
                INSERT INTO shop.cache VALUES ('a', 'b');
                REFRESH MATERIALIZED VIEW shop.status_counts;
                """);
    }
}
