package io.exitflow.runtime;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import io.exitflow.runtime.api.EarlyExit;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packages of the runtime library form a ladder (docs/runtime-api.md, "Packages"): each may use only the ones
 * below it, so no change can bring back a cycle. Reads the compiled main classes of operators/ (the folder
 * {@link EarlyExit} was loaded from, not the tests).
 */
class PackageLadderTest {
    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() throws Exception {
        Path classes = Path.of(EarlyExit.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
        main = new ClassFileImporter().importPath(classes);
    }

    @Test
    void noPackageCycles() {
        slices().matching("io.exitflow.(**)").should().beFreeOfCycles().check(main);
    }

    @Test
    void eachPackageUsesOnlyTheRungsBelowIt() {
        layeredArchitecture()
                .consideringOnlyDependenciesInLayers()
                .layer("manifest")
                .definedBy("io.exitflow.runtime.manifest..")
                .layer("record")
                .definedBy("io.exitflow.runtime.record..")
                .layer("exit")
                .definedBy("io.exitflow.runtime.exit..")
                .layer("onnx")
                .definedBy("io.exitflow.runtime.onnx..")
                .layer("bundle")
                .definedBy("io.exitflow.runtime.bundle..")
                .layer("operator")
                .definedBy("io.exitflow.runtime.operator..")
                .layer("api")
                .definedBy("io.exitflow.runtime.api..")
                .layer("control")
                .definedBy("io.exitflow.control")
                .layer("control.flink")
                .definedBy("io.exitflow.control.flink..")
                .whereLayer("control.flink")
                .mayNotBeAccessedByAnyLayer()
                .whereLayer("control")
                .mayOnlyBeAccessedByLayers("control.flink")
                .whereLayer("api")
                .mayNotBeAccessedByAnyLayer()
                .whereLayer("operator")
                .mayOnlyBeAccessedByLayers("api")
                .whereLayer("bundle")
                .mayOnlyBeAccessedByLayers("operator", "api", "control", "control.flink")
                .whereLayer("onnx")
                .mayOnlyBeAccessedByLayers("bundle", "operator", "api")
                .whereLayer("exit")
                .mayOnlyBeAccessedByLayers("onnx", "bundle", "operator", "api")
                .whereLayer("record")
                .mayOnlyBeAccessedByLayers("operator", "api")
                .check(main);
    }

    @Test
    void testOnlyCodeStaysOutOfTheLibrary() {
        noClasses().should().resideInAPackage("io.exitflow.control.sim..").check(main);
    }
}
