package dev.moe4j.spark;

import dev.moe4j.api.BadModelFileException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Finds the local file an executor loads: a shipped file through {@link SparkFiles}, a local path as it is, and a
 * file on any other Hadoop file system copied once per JVM into a local cache directory (the engine memory-maps
 * its weights, which needs a local file).
 */
final class ModelLocator {
    private static final Logger LOG = LoggerFactory.getLogger(ModelLocator.class);

    /** Remote URI (and cache directory) to its local copy: each JVM copies a remote model once. */
    private static final Map<String, Path> COPIES = new ConcurrentHashMap<>();

    private ModelLocator() {}

    /**
     * The local path of the options' model.
     *
     * @throws BadModelFileException if a remote model cannot be read or copied (the message names it)
     */
    static Path localPath(Moe4jSparkOptions options) {
        String where = options.modelPath();
        if (options.modelFromSparkFiles()) {
            Path shipped = Path.of(SparkFiles.get(where));
            if (!Files.exists(shipped)) {
                throw new BadModelFileException("model " + where + " was not shipped with SparkContext.addFile or"
                        + " spark-submit --files: " + shipped + " does not exist");
            }
            return shipped;
        }
        URI uri = uriOf(where);
        if (uri == null || uri.getScheme() == null || uri.getScheme().length() == 1 || "file".equals(uri.getScheme())) {
            // a plain path (a one-letter scheme is a Windows drive) or file:
            return uri != null && "file".equals(uri.getScheme()) ? Path.of(uri) : Path.of(where);
        }
        Path cacheDir = options.modelCacheDir() != null ? Path.of(options.modelCacheDir())
                : Path.of(System.getProperty("java.io.tmpdir"), "moe4j-models");
        return COPIES.computeIfAbsent(where + "\u0000" + cacheDir, key -> copy(uri, cacheDir, hadoopConfiguration()));
    }

    private static URI uriOf(String where) {
        try {
            return new URI(where);
        } catch (URISyntaxException e) {
            return null;
        }
    }

    /** Hadoop's defaults and site files, plus the job's {@code spark.hadoop.*} settings as Spark itself applies them. */
    private static Configuration hadoopConfiguration() {
        Configuration conf = new Configuration();
        SparkEnv env = SparkEnv.get();
        if (env != null) {
            for (Tuple2<String, String> entry : env.conf().getAll()) {
                if (entry._1().startsWith("spark.hadoop.")) {
                    conf.set(entry._1().substring("spark.hadoop.".length()), entry._2());
                }
            }
        }
        return conf;
    }

    /**
     * Copies a remote model into the cache directory, unless a copy of the same size is already there (left by an
     * earlier JVM on this machine). Written to a temporary name and moved, so a concurrent reader never sees half.
     */
    static Path copy(URI uri, Path cacheDir, Configuration conf) {
        org.apache.hadoop.fs.Path remote = new org.apache.hadoop.fs.Path(uri);
        try {
            FileSystem fs = remote.getFileSystem(conf);
            FileStatus status = fs.getFileStatus(remote);
            Files.createDirectories(cacheDir);
            // the URI's hash keeps two remote files of the same name apart
            String name = Integer.toHexString(uri.toString().hashCode()) + "-" + remote.getName();
            Path local = cacheDir.resolve(name);
            if (Files.isRegularFile(local) && Files.size(local) == status.getLen()) {
                LOG.info("model {}: using the local copy {}", uri, local);
                return local;
            }
            long start = System.nanoTime();
            Path partial = Files.createTempFile(cacheDir, name, ".part");
            try (InputStream in = fs.open(remote)) {
                Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
                Files.move(partial, local, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(partial);
            }
            LOG.info("model {}: copied {} MB to {} in {} ms", uri, status.getLen() >> 20, local,
                    (System.nanoTime() - start) / 1_000_000);
            return local;
        } catch (IOException e) {
            throw new BadModelFileException("model " + uri + " cannot be copied to " + cacheDir + ": " + e, e);
        } catch (UnsupportedOperationException e) {
            throw new BadModelFileException("model " + uri + " cannot be read: the Hadoop client on the class path"
                    + " calls Subject.getSubject, which JDK 24 and later refuse (" + e.getMessage() + "); run Spark"
                    + " with Hadoop client 3.5.0 or later", e);
        }
    }
}
