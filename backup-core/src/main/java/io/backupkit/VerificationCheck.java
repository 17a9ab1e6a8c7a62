package io.backupkit;

/**
 * One check of a verification.
 *
 * @param name    what was checked ("stream data-0001 sha256", "row count public.orders")
 * @param status  outcome
 * @param message details, for failures what differs
 */
public record VerificationCheck(String name, Status status, String message) {

    public enum Status { PASSED, FAILED, SKIPPED }

    public static VerificationCheck passed(String name, String message) {
        return new VerificationCheck(name, Status.PASSED, message);
    }

    public static VerificationCheck failed(String name, String message) {
        return new VerificationCheck(name, Status.FAILED, message);
    }

    public static VerificationCheck skipped(String name, String message) {
        return new VerificationCheck(name, Status.SKIPPED, message);
    }

    public boolean failed() {
        return status == Status.FAILED;
    }
}
