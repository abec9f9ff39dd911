/** The p2v command: argument handling and output around the libraries. */
module io.p2vkit.cli {
    requires io.p2vkit.image;
    requires io.p2vkit.agent;
    requires io.p2vkit.hv;
    requires io.p2vkit.bootcd;
    requires info.picocli;
    opens io.p2vkit.cli to info.picocli;
    opens io.p2vkit.cli.image to info.picocli;
    opens io.p2vkit.cli.agent to info.picocli;
    opens io.p2vkit.cli.vm to info.picocli;
    opens io.p2vkit.cli.migrate to info.picocli;
}
