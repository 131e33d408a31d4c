package io.efficientnet.train.run;

import io.efficientnet.core.weights.IoErrors;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A run folder belongs to one training process: an operating-system lock on {@code run.lock} in the folder, held for
 * the whole run and released when the process ends however it ends (so a lock left by a dead process never blocks).
 * The file holds the holder's process id and host, for the message another process gets.
 */
public final class RunLock implements AutoCloseable {

    /** The lock file's name in the run folder. */
    public static final String FILE = "run.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock of {@code runFolder}, creating the folder if needed; this also checks that it is writable.
     *
     * @throws IOException naming the folder when it cannot be written, or the process that holds it
     */
    public static RunLock acquire(Path runFolder) throws IOException {
        Path file = runFolder.resolve(FILE);
        FileChannel channel;
        try {
            Files.createDirectories(runFolder);
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new IOException("the run folder " + runFolder + " is not writable: " + IoErrors.reason(e), e);
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // this JVM holds it already
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot lock " + file + ": " + IoErrors.reason(e), e);
        }
        if (lock == null) {
            String holder = Files.readString(file, StandardCharsets.UTF_8).strip();
            channel.close();
            throw new IllegalStateException("the run folder " + runFolder + " is in use by another training process ("
                    + (holder.isEmpty() ? "unknown" : holder) + ", holding " + file + "): wait for it to end, or "
                    + "choose another --output");
        }
        try {
            byte[] me = ("pid " + ProcessHandle.current().pid() + " on " + host() + ", started "
                    + java.time.Instant.ofEpochMilli(ManagementFactory.getRuntimeMXBean().getStartTime()) + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(me), 0);
            channel.force(false);
        } catch (IOException e) {
            lock.release();
            channel.close();
            throw new IOException("the run folder " + runFolder + " is not writable: " + IoErrors.reason(e), e);
        }
        return new RunLock(channel, lock);
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "this host";
        }
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
