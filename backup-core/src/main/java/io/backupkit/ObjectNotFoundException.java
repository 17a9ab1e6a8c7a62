package io.backupkit;

/** The named object does not exist in storage. */
public class ObjectNotFoundException extends StorageException {
    private static final long serialVersionUID = 1L;
    private final String objectName;

    public ObjectNotFoundException(String location, String objectName) {
        super("object " + objectName + " not found in " + location, false);
        this.objectName = objectName;
    }

    public String objectName() {
        return objectName;
    }
}
