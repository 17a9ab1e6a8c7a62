package io.backupkit;

import io.backupkit.internal.codec.BuiltinCodecs;
import io.backupkit.spi.CompressionCodec;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;

/**
 * The compression codecs: built-in zstd (level 1 for new repositories; "zstd" alone is level 3), gzip, bzip2, xz, lz4 and none, plus any
 * {@link CompressionCodec} registered through {@link ServiceLoader}.
 */
public final class Codecs {
    private static final CompressionCodec DEFAULT = BuiltinCodecs.ZSTD.withLevel(1);

    private Codecs() {
    }

    public static CompressionCodec zstd(int level) {
        return BuiltinCodecs.ZSTD.withLevel(level);
    }

    public static CompressionCodec none() {
        return BuiltinCodecs.NONE;
    }

    /**
     * The codec of new repositories: zstd level 1. Measured on dump text (bench/jmh {@code CodecLevels},
     * docs/performance.md): on rows that are half random (hex digests, bytea) it compresses twice as fast
     * as level 3 and no larger (2.52 against 2.43 ×); on pgbench rows as fast, 4 % larger. Existing
     * repositories keep the codec and level their config records; reading never depends on the level.
     */
    public static CompressionCodec defaultCodec() {
        return DEFAULT;
    }

    /**
     * A codec by spec, "name" or "name:level" ("zstd:9", "gzip", "none").
     *
     * @throws ConfigurationException for unknown names or bad levels, listing the known names
     */
    public static CompressionCodec byName(String spec) {
        String name = spec.strip().toLowerCase(Locale.ROOT);
        Integer level = null;
        int colon = name.indexOf(':');
        if (colon >= 0) {
            try {
                level = Integer.parseInt(name.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new ConfigurationException("compression level in '" + spec + "' is not a number");
            }
            name = name.substring(0, colon);
        }
        for (CompressionCodec c : all()) {
            if (c.name().equals(name)) {
                try {
                    return level == null ? c : c.withLevel(level);
                } catch (IllegalArgumentException e) {
                    throw new ConfigurationException("compression '" + spec + "': " + e.getMessage());
                }
            }
        }
        throw new ConfigurationException("unknown compression '" + spec + "'; known: "
                + all().stream().map(CompressionCodec::name).toList());
    }

    /** The codec that wrote blobs with {@code id}. */
    public static CompressionCodec byId(int id) {
        for (CompressionCodec c : all()) {
            if (c.id() == id) {
                return c;
            }
        }
        throw new ConfigurationException("no compression codec with id " + id + " on the class path");
    }

    public static List<CompressionCodec> all() {
        List<CompressionCodec> all = new ArrayList<>(BuiltinCodecs.ALL);
        for (CompressionCodec c : ServiceLoader.load(CompressionCodec.class, Codecs.class.getClassLoader())) {
            if (all.stream().noneMatch(b -> b.name().equals(c.name()) || b.id() == c.id())) {
                all.add(c);
            }
        }
        return all;
    }
}
