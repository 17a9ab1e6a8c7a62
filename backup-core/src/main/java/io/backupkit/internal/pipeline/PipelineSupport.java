package io.backupkit.internal.pipeline;

import io.backupkit.ConfigurationException;
import io.backupkit.ProgressEvent;
import io.backupkit.ProgressListener;
import io.backupkit.Repository;
import io.backupkit.internal.repo.DefaultRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

final class PipelineSupport {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineSupport.class);

    private PipelineSupport() {
    }

    static DefaultRepository internal(Repository repository) {
        if (repository instanceof DefaultRepository d) {
            return d;
        }
        throw new ConfigurationException("repository must come from Repository.builder(), was " + repository.getClass().getName());
    }

    /** A failing listener must not fail the backup. */
    static void emit(List<ProgressListener> listeners, ProgressEvent event) {
        for (ProgressListener l : listeners) {
            try {
                l.onProgress(event);
            } catch (RuntimeException e) {
                LOG.warn("progress listener {} failed: {}", l, e.toString());
            }
        }
    }
}
