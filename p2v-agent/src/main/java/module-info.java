/** Source disk discovery and capture (the p2v-agent issue fills this in). */
module io.p2vkit.agent {
    requires io.p2vkit.image;
    requires org.jnrproject.posix;
}
