/**
 * Batch chat and completion over Apache Spark: {@link dev.moe4j.spark.Moe4jSpark} answers a DataFrame column's
 * prompts with one moe4j engine per executor JVM, and registers the same as SQL functions.
 */
package dev.moe4j.spark;
