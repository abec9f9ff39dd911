package io.p2vkit.agent.capture;

import io.p2vkit.agent.discovery.BlockDevice;
import io.p2vkit.image.convert.Converter;
import io.p2vkit.image.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The JSON record written beside a captured image: where it came from and what was copied. */
public record Manifest(Map<String, Object> content) {

    static Manifest of(BlockDevice source, CapturePlan plan, Capture.Request r, Converter.Result copy, String sha256,
                       Boolean verified, List<String> warnings, List<Path> frozen, Instant started,
                       long[] phaseMillis) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("p2vkit_manifest", 1);
        m.put("started", started.toString());
        Map<String, Object> src = new LinkedHashMap<>();
        src.put("path", source.path());
        src.put("size", source.size());
        src.put("logical_sector_size", source.logicalSector());
        src.put("model", source.model());
        src.put("serial", source.serial());
        src.put("partition_table", plan.table().scheme());
        src.put("disk_id", plan.table().diskId());
        m.put("source", src);
        List<Object> parts = new ArrayList<>();
        for (PartitionPlan p : plan.partitions()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("number", p.partition().number());
            e.put("offset", p.partition().offset());
            e.put("length", p.partition().length());
            e.put("type", p.partition().typeName());
            e.put("filesystem", p.filesystem() == null ? null : p.filesystem().type());
            e.put("label", p.filesystem() == null ? null : p.filesystem().label());
            e.put("uuid", p.filesystem() == null ? null : p.filesystem().uuid());
            e.put("mode", p.mode());
            e.put("reason", p.reason());
            e.put("copied_bytes", p.copiedBytes());
            e.put("skipped_bytes", p.mode().equals("container") ? 0 : p.partition().length() - p.copiedBytes());
            parts.add(e);
        }
        m.put("partitions", parts);
        Map<String, Object> img = new LinkedHashMap<>();
        img.put("path", r.output().toString());
        img.put("format", r.format().name());
        img.put("options", r.options().asMap());
        img.put("virtual_size", copy.virtualSize());
        img.put("bytes_read", copy.bytesRead());
        img.put("bytes_written", copy.bytesWritten());
        m.put("image", img);
        m.put("copied_regions_bytes", plan.copiedBytes());
        m.put("mode", r.all() ? "all" : "used-blocks");
        m.put("sha256", sha256);
        m.put("sha256_of", "the virtual disk as captured (free blocks read as zeros): sha256sum of a raw "
                + "conversion of the image prints the same");
        m.put("verified", verified);
        m.put("warnings", warnings);
        m.put("frozen", frozen.stream().map(Path::toString).toList());
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("plan_ms", phaseMillis[0]);
        t.put("copy_ms", phaseMillis[1]);
        t.put("verify_ms", phaseMillis[2]);
        m.put("timings", t);
        return new Manifest(m);
    }

    /** Writes the manifest under a temporary name and renames it into place. */
    void writeTo(Path path) throws IOException {
        Path tmp = path.resolveSibling("." + path.getFileName() + ".tmp");
        Files.writeString(tmp, Json.write(content) + System.lineSeparator());
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public String sha256() {
        return (String) content.get("sha256");
    }


}
