package io.exitflow.jobs.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/** The parser's two conveniences: a switch named alone is on, and a list flag may be given once per element. */
class CommandLineSwitchesAndListsTest {
    private static final ConfigOption<CommandLine.Switch> BUSY = CommandLine.onOff("t.busy", false, "busy");
    private static final ConfigOption<List<String>> BUNDLE = ConfigOptions.key("t.bundle")
            .stringType()
            .asList()
            .defaultValues("a", "b")
            .withDescription("bundles");
    private static final ConfigOption<List<Integer>> SIZES =
            ConfigOptions.key("t.size").intType().asList().noDefaultValue().withDescription("sizes");
    private static final ConfigOption<String> NAME =
            ConfigOptions.key("t.name").stringType().noDefaultValue().withDescription("name");
    private static final CommandLine CLI = CommandLine.of(List.of(BUSY, BUNDLE, SIZES, NAME));

    private static Configuration parse(String... args) {
        return CLI.parse(args, new Configuration());
    }

    @Test
    void aSwitchNamedAloneIsOnAndTakesOnOrOffAsBefore() {
        assertEquals(CommandLine.Switch.OFF, parse().get(BUSY));
        assertEquals(CommandLine.Switch.ON, parse("--busy").get(BUSY));
        Configuration before = parse("--busy", "--name", "x");
        assertEquals(CommandLine.Switch.ON, before.get(BUSY));
        assertEquals("x", before.get(NAME));
        assertEquals(CommandLine.Switch.OFF, parse("--busy", "off").get(BUSY));
        String msg = assertThrows(IllegalArgumentException.class, () -> parse("--busy", "maybe"))
                .getMessage();
        assertTrue(msg.startsWith("--busy must be on or off, got 'maybe'"), msg);
        // any other flag still needs its value
        assertTrue(assertThrows(IllegalArgumentException.class, () -> parse("--name"))
                .getMessage()
                .contains("--name needs a value"));
    }

    @Test
    void aListFlagGivenAgainAddsAnElementAndTheCommandLineReplacesTheDefault() {
        assertEquals(List.of("a", "b"), parse().get(BUNDLE));
        assertEquals(List.of("x;y"), parse("--bundle", "x;y").get(BUNDLE), "one flag, one element");
        assertEquals(List.of("c", "d"), parse("--bundle", "c", "--bundle", "d").get(BUNDLE));
        assertEquals(List.of(3, 4), parse("--size", "3", "--size", "4").get(SIZES));
        String msg = assertThrows(IllegalArgumentException.class, () -> parse("--size", "3", "--size", "many"))
                .getMessage();
        assertTrue(msg.startsWith("--size must be an integer"), msg);
        // config.yaml's list spelling still reads, and the command line wins over it
        Configuration yaml = new Configuration();
        yaml.setString("t.bundle", "p;q");
        assertEquals(List.of("p", "q"), CLI.parse(new String[0], yaml).get(BUNDLE));
        assertEquals(
                List.of("r"), CLI.parse(new String[] {"--bundle", "r"}, yaml).get(BUNDLE));
    }

    @Test
    void helpMarksListsAndShowsTheirDefaults() {
        String help = CLI.help();
        assertTrue(help.contains("--bundle (repeatable)"), help);
        assertTrue(help.contains("[default a, b]"), help);
        assertTrue(help.contains("[default off]"), help);
    }

    @Test
    void aListGivenInCodeKeepsItsElements() {
        Configuration c = new Configuration();
        CommandLine.set(c, BUNDLE, List.of("m;n", "o"));
        assertEquals(List.of("m;n", "o"), c.get(BUNDLE));
    }
}
