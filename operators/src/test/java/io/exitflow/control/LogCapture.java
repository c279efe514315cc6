package io.exitflow.control;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

/** Collects what one class logs (through log4j2, SLF4J's binding in the tests) while it is open. */
public final class LogCapture extends AbstractAppender implements AutoCloseable {
    private final Logger logger;
    private final List<String> lines = new CopyOnWriteArrayList<>();

    public LogCapture(Class<?> source) {
        super("capture-" + source.getSimpleName(), null, null, true, Property.EMPTY_ARRAY);
        start();
        logger = (Logger) LogManager.getLogger(source);
        logger.addAppender(this);
    }

    @Override
    public void append(LogEvent e) {
        lines.add(e.getLevel() + " " + e.getMessage().getFormattedMessage());
    }

    /** Lines logged at {@code level} that contain {@code text}. */
    public List<String> lines(Level level, String text) {
        return lines.stream()
                .filter(l -> l.startsWith(level + " ") && l.contains(text))
                .toList();
    }

    @Override
    public void close() {
        logger.removeAppender(this);
        stop();
    }
}
