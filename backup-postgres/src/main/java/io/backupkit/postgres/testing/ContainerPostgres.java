package io.backupkit.postgres.testing;

import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A PostgreSQL server in a Docker container (Testcontainers), for machines where Docker runs but no
 * local server binaries are installed. Client tools (pg_dump, …) still run locally: their major
 * version must be at least the image's.
 *
 * <pre>{@code
 * try (ContainerPostgres pg = ContainerPostgres.start("postgres:15-alpine")) {
 *     pg.createDatabase("shop");
 * }
 * }</pre>
 */
public final class ContainerPostgres implements PostgresServer {
    private final PostgreSQLContainer container;
    private final int majorVersion;

    private ContainerPostgres(PostgreSQLContainer container) {
        this.container = container;
        container.start();
        this.majorVersion = Integer.parseInt(queryForString("postgres", "SHOW server_version_num")) / 10000;
    }

    /** Starts a container of {@code image} (for example {@code postgres:15-alpine}). */
    public static ContainerPostgres start(String image) {
        return new ContainerPostgres(new PostgreSQLContainer(DockerImageName.parse(image).asCompatibleSubstituteFor("postgres"))
                .withDatabaseName("postgres"));
    }

    /** Starts a container configured by the caller (not yet started). */
    public static ContainerPostgres start(PostgreSQLContainer container) {
        return new ContainerPostgres(container);
    }

    public PostgreSQLContainer container() {
        return container;
    }

    @Override
    public String host() {
        return container.getHost();
    }

    @Override
    public int port() {
        return container.getMappedPort(5432);
    }

    @Override
    public String user() {
        return container.getUsername();
    }

    @Override
    public String password() {
        return container.getPassword();
    }

    @Override
    public int majorVersion() {
        return majorVersion;
    }

    @Override
    public Optional<Path> binDirectory() {
        Path local = EphemeralPostgres.findBinDirectory();
        return java.nio.file.Files.isExecutable(local.resolve("pg_dump")) ? Optional.of(local) : Optional.empty();
    }

    @Override
    public void close() {
        container.stop();
    }

    @Override
    public String toString() {
        return "ContainerPostgres[" + container.getDockerImageName() + "]";
    }
}
