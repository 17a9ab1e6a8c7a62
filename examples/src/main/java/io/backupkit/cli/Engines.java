package io.backupkit.cli;

import io.backupkit.ConfigurationException;
import io.backupkit.spi.DatabaseEngine;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Finds the {@link DatabaseEngine} for a database URL among the engines on the class path. */
final class Engines {
    private Engines() {
    }

    static DatabaseEngine forUrl(String url) {
        if (url == null || url.isBlank()) {
            throw new ConfigurationException("database URL is empty");
        }
        List<DatabaseEngine> all = new ArrayList<>();
        for (DatabaseEngine e : ServiceLoader.load(DatabaseEngine.class, Engines.class.getClassLoader())) {
            all.add(e);
        }
        List<DatabaseEngine> matching = all.stream().filter(e -> e.supports(url)).toList();
        if (matching.isEmpty()) {
            throw new ConfigurationException("no database engine handles '" + Redact.url(url) + "'"
                    + (all.isEmpty() ? " (no engine on the class path)"
                    : "; engines here: " + all.stream().map(DatabaseEngine::name).toList())
                    + "; use a postgresql://host:port/dbname URI, a jdbc:postgresql://host:port/dbname URL, "
                    + "mysql://user@host:port/dbname / mariadb://user@host:port/dbname (no dbname: the whole server), sqlite:PATH, "
                    + "redis://[user@]host:port or, for a "
                    + "database in a Kubernetes pod, k8s://NAMESPACE/POD[/CONTAINER]?database=NAME");
        }
        return matching.get(0);
    }
}
