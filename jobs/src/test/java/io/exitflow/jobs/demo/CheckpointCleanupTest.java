package io.exitflow.jobs.demo;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo removes its checkpoint folder at the end, even while Flink is still discarding the last checkpoint. */
class CheckpointCleanupTest {

    @Test
    void deletesANestedCheckpointTree(@TempDir Path tmp) throws Exception {
        Path root = tmp.resolve("checkpoints");
        Files.createDirectories(root.resolve("job/chk-3/sub"));
        Files.writeString(root.resolve("job/chk-3/_metadata"), "x");
        Files.writeString(root.resolve("job/chk-3/sub/state"), "y");
        Files.createDirectories(root.resolve("job/shared"));
        EmbeddedDemo.deleteRecursively(root);
        assertFalse(Files.exists(root));
    }

    @Test
    void anEntryThatIsAlreadyGoneIsNotAnError(@TempDir Path tmp) {
        // Flink discarding a cancelled job's checkpoint may remove a folder before the walk reaches it.
        assertDoesNotThrow(() -> EmbeddedDemo.deleteRecursively(tmp.resolve("never-created")));
    }
}
