package io.backupkit.k8s.internal;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PodResolverTest {
    private static final Pod POD = new PodBuilder().withNewMetadata().withName("db-0")
            .withLabels(Map.of("cnpg.io/cluster", "shop", "cnpg.io/instanceRole", "primary", "tier", "db")).endMetadata().build();

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "cnpg.io/cluster=shop,cnpg.io/instanceRole=primary|true",
        "cnpg.io/instanceRole==primary|true",
        "cnpg.io/instanceRole=replica|false",
        "tier!=web|true",
        "tier!=db|false",
        "tier|true",
        "missing|false",
        "tier=db, cnpg.io/cluster=shop|true",
    })
    void equalityBasedSelectors(String selector, boolean matches) {
        assertEquals(matches, PodResolver.matches(POD, selector));
    }
}
