// Drives the @huggingface/hub npm client against a gateway: node hf_hub_client.mjs HUB_URL REPO FILE CACHE_DIR
// Prints one JSON line: the file list, the downloaded file's SHA-256 and size, the snapshot
// folder, and the status an unknown repo gets.
import { createHash } from "node:crypto";
import * as hub from "@huggingface/hub";

const [hubUrl, repo, file, cacheDir] = process.argv.slice(2);
const out = { files: [] };
for await (const f of hub.listFiles({ repo, recursive: true, hubUrl })) out.files.push({ type: f.type, path: f.path, size: f.size });
const blob = await hub.downloadFile({ repo, path: file, hubUrl });
const bytes = Buffer.from(await blob.arrayBuffer());
out.sha256 = createHash("sha256").update(bytes).digest("hex");
out.size = bytes.length;
if (typeof hub.snapshotDownload === "function") out.snapshot = await hub.snapshotDownload({ repo, hubUrl, cacheDir });
try {
  await hub.downloadFile({ repo: "nobody/no-such-model", path: file, hubUrl });
  out.unknown = 200;
} catch (e) {
  out.unknown = e.statusCode ?? String(e);
}
console.log(JSON.stringify(out));
