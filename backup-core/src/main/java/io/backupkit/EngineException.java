package io.backupkit;

/**
 * A database engine or one of its tools failed. Carries the tool's exit code (or -1 when the failure
 * was not a process exit) and the tail of its standard error, with secrets removed.
 */
public class EngineException extends BackupException {
    private static final long serialVersionUID = 1L;
    private final int exitCode;
    private final String stderrTail;

    public EngineException(String message) {
        this(message, -1, "", null);
    }

    public EngineException(String message, Throwable cause) {
        this(message, -1, "", cause);
    }

    public EngineException(String message, int exitCode, String stderrTail, Throwable cause) {
        super(stderrTail == null || stderrTail.isBlank() ? message : message + ": " + stderrTail.strip(), cause);
        this.exitCode = exitCode;
        this.stderrTail = stderrTail == null ? "" : stderrTail;
    }

    public int exitCode() {
        return exitCode;
    }

    public String stderrTail() {
        return stderrTail;
    }
}
