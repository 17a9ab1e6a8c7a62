package io.backupkit.redis.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.util.function.Supplier;

/**
 * JUnit 5 extension: one {@link EphemeralRedis} per test class, started before the first test and
 * stopped after the last; tests and lifecycle methods receive it as a parameter.
 *
 * <pre>{@code
 * @RegisterExtension
 * static RedisServerExtension redis = new RedisServerExtension();          // or .of(() -> EphemeralRedis.builder()...start())
 *
 * @Test
 * void backsUp(EphemeralRedis server) { ... server.url() ... }
 * }</pre>
 *
 * <p>Needs {@code junit-jupiter-api} on the test class path (backup-redis declares it optional, so it
 * never reaches a production class path).
 */
public final class RedisServerExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {
    private final Supplier<EphemeralRedis> factory;
    private EphemeralRedis server;

    public RedisServerExtension() {
        this(EphemeralRedis::start);
    }

    private RedisServerExtension(Supplier<EphemeralRedis> factory) {
        this.factory = factory;
    }

    /** An extension whose server is made by {@code factory} (e.g. with an ACL user). */
    public static RedisServerExtension of(Supplier<EphemeralRedis> factory) {
        return new RedisServerExtension(factory);
    }

    /** The running server (after {@code beforeAll}). */
    public EphemeralRedis server() {
        if (server == null) {
            throw new IllegalStateException("the Redis server starts before the first test of the class");
        }
        return server;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        server = factory.get();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        return p.getParameter().getType() == EphemeralRedis.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        return server();
    }
}
