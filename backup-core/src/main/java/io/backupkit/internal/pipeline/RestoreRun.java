package io.backupkit.internal.pipeline; public final class RestoreRun { public RestoreRun(Object... a) {} public io.backupkit.RestoreResult run() { throw new IllegalStateException("in progress"); } }
