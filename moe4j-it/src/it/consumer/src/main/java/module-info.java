/** A consumer of moe4j: the library's automatic module name is all it needs. */
module example {
    requires dev.moe4j.core;
    exports example;
}
