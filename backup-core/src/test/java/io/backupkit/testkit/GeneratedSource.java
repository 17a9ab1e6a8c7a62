package io.backupkit.testkit;

import io.backupkit.EngineException;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * A {@link BackupSource} of generated streams, written in parallel like a real engine does. Used by
 * core tests and by storage modules that rerun backups on their storage.
 */
public final class GeneratedSource implements BackupSource {
    public static final String ENGINE = "generated";
    private final Map<String, Supplier<InputStream>> streams = new LinkedHashMap<>();

    public GeneratedSource stream(String name, Supplier<InputStream> content) {
        streams.put(name, content);
        return this;
    }

    @Override
    public String engine() {
        return ENGINE;
    }

    @Override
    public String describe() {
        return "generated streams " + streams.keySet();
    }

    @Override
    public void backup(BackupContext context) {
        context.putMetadata("streams", new ArrayList<>(streams.keySet()));
        List<CompletableFuture<Void>> running = new ArrayList<>();
        for (Map.Entry<String, Supplier<InputStream>> e : streams.entrySet()) {
            running.add(CompletableFuture.runAsync(() -> {
                try (InputStream in = e.getValue().get(); OutputStream out = context.newStream(e.getKey())) {
                    in.transferTo(out);
                } catch (IOException ex) {
                    throw new EngineException("writing stream " + e.getKey() + " failed: " + ex.getMessage(), ex);
                }
            }));
        }
        try {
            CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).join();
        } catch (CompletionException ex) {
            if (ex.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw ex;
        }
    }
}
