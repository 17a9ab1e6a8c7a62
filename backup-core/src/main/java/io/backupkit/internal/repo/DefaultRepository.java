package io.backupkit.internal.repo;

import io.backupkit.Repository;

/** Placeholder while the format is written. */
public abstract class DefaultRepository implements Repository {
    public static Repository.Builder builder() { throw new IllegalStateException("in progress"); }
    public abstract static class RepositoryBuilder implements Repository.Builder {
    }
}
