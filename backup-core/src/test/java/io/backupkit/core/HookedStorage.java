package io.backupkit.core;

import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * A storage decorator with hooks, so a test can force an interleaving (pause a delete until another
 * thread gets there), reorder listings (try a given key slot first) or fail after a write landed.
 */
final class HookedStorage implements Storage {
    private final Storage delegate;
    volatile UnaryOperator<List<ObjectInfo>> onList = l -> l;
    volatile Consumer<String> beforePut = n -> { };
    volatile Consumer<String> afterPut = n -> { };
    volatile Consumer<String> beforeDelete = n -> { };
    volatile Consumer<String> afterDelete = n -> { };

    HookedStorage(Storage delegate) {
        this.delegate = delegate;
    }

    /** Lists in reverse of the delegate's order (tries the other key slot first). */
    HookedStorage reversedListing() {
        onList = l -> {
            List<ObjectInfo> r = new ArrayList<>(l);
            java.util.Collections.reverse(r);
            return r;
        };
        return this;
    }

    @Override
    public String location() {
        return delegate.location();
    }

    @Override
    public boolean putIfAbsent(String name, Payload payload) {
        beforePut.accept(name);
        boolean written = delegate.putIfAbsent(name, payload);
        afterPut.accept(name);
        return written;
    }

    @Override
    public boolean readsPayloadOnlyDuringPut() {
        return delegate.readsPayloadOnlyDuringPut();
    }

    @Override
    public InputStream get(String name) {
        return delegate.get(name);
    }

    @Override
    public InputStream get(String name, long offset, long length) {
        return delegate.get(name, offset, length);
    }

    @Override
    public Optional<ObjectInfo> stat(String name) {
        return delegate.stat(name);
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        return onList.apply(new ArrayList<>(delegate.list(prefix)));
    }

    @Override
    public void delete(String name) {
        beforeDelete.accept(name);
        delegate.delete(name);
        afterDelete.accept(name);
    }

    @Override
    public void close() {
        // the delegate belongs to the test
    }
}
