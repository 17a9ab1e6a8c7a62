package io.backupkit.postgres;

import io.backupkit.StorageException;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;

import java.io.InputStream;
import java.util.List;
import java.util.Optional;

/** A storage that can be made unreachable and reachable again: every call fails while it is down. */
final class SwitchableStorage implements Storage {
    private final Storage delegate;
    private volatile boolean down;

    SwitchableStorage(Storage delegate) {
        this.delegate = delegate;
    }

    void down(boolean down) {
        this.down = down;
    }

    private void check(String what) {
        if (down) {
            throw new StorageException("cannot reach " + delegate.location() + " (" + what + "): connection refused", true);
        }
    }

    @Override
    public String location() {
        return delegate.location();
    }

    @Override
    public boolean putIfAbsent(String name, Payload payload) {
        check("put " + name);
        return delegate.putIfAbsent(name, payload);
    }

    @Override
    public InputStream get(String name) {
        check("get " + name);
        return delegate.get(name);
    }

    @Override
    public InputStream get(String name, long offset, long length) {
        check("get " + name);
        return delegate.get(name, offset, length);
    }

    @Override
    public Optional<ObjectInfo> stat(String name) {
        check("stat " + name);
        return delegate.stat(name);
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        check("list " + prefix);
        return delegate.list(prefix);
    }

    @Override
    public void delete(String name) {
        check("delete " + name);
        delegate.delete(name);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
