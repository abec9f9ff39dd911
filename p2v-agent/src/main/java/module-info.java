/** Source disk discovery and capture. */
module io.p2vkit.agent {
    requires io.p2vkit.image;
    requires org.jnrproject.posix;
    exports io.p2vkit.agent.capture;
    exports io.p2vkit.agent.discovery;
    exports io.p2vkit.agent.fs;
    exports io.p2vkit.agent.migrate;
    exports io.p2vkit.agent.partition;
}
