package io.backupkit.testkit;

import io.backupkit.StorageException;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;

import java.io.InputStream;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A storage decorator that fails the n-th write (and every write after it, like a crashed process),
 * for crash-safety tests.
 */
public final class FaultInjectingStorage implements Storage {
    private final Storage delegate;
    private final int failAtWrite;
    private final AtomicInteger writes = new AtomicInteger();

    public FaultInjectingStorage(Storage delegate, int failAtWrite) {
        this.delegate = delegate;
        this.failAtWrite = failAtWrite;
    }

    public int writes() {
        return writes.get();
    }

    @Override
    public String location() {
        return delegate.location();
    }

    @Override
    public boolean putIfAbsent(String name, Payload payload) {
        if (writes.incrementAndGet() >= failAtWrite) {
            throw new StorageException("injected failure writing " + name, true);
        }
        return delegate.putIfAbsent(name, payload);
    }

    @Override
    public boolean atomicPutIfAbsent() {
        return delegate.atomicPutIfAbsent();
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
        return delegate.list(prefix);
    }

    @Override
    public void delete(String name) {
        delegate.delete(name);
    }

    @Override
    public void close() {
        // the delegate belongs to the test
    }
}
