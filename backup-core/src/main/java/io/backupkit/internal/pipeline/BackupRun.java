package io.backupkit.internal.pipeline; public final class BackupRun { public BackupRun(Object... a) {} public io.backupkit.BackupResult run() { throw new IllegalStateException("in progress"); } }
