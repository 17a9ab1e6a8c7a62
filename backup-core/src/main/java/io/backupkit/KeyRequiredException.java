package io.backupkit;

/**
 * The repository is encrypted and was opened without a password, key file or key provider. Nothing
 * was tried yet; a caller that can ask a person (a CLI at a terminal) asks and opens again.
 *
 * <pre>{@code
 * try {
 *     repo = Repository.builder().location(location).open();
 * } catch (KeyRequiredException e) {
 *     repo = Repository.builder().location(location).password(askPassword()).open();
 * }
 * }</pre>
 */
public class KeyRequiredException extends ConfigurationException {
    private static final long serialVersionUID = 1L;
    private final String location;

    /** @param location the repository's location, without credentials */
    public KeyRequiredException(String location) {
        super("repository " + location + " is encrypted: give a password, key file or key provider");
        this.location = location;
    }

    /** Where the repository is (never contains credentials). */
    public String location() {
        return location;
    }
}
