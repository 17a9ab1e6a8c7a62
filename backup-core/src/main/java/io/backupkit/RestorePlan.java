package io.backupkit;

import java.util.List;

/**
 * What a restore does or would do (dry run).
 *
 * @param target  where it goes
 * @param actions steps in order ("create database shop", "restore table public.orders (1.2 GiB)")
 * @param bytes   plaintext bytes the restore reads from the repository
 */
public record RestorePlan(String target, List<String> actions, long bytes) {
    public RestorePlan {
        actions = List.copyOf(actions);
    }
}
