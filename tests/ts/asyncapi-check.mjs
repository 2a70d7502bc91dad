// Validates an AsyncAPI document with @asyncapi/parser 3.x (the spec's JSON Schema plus
// its default Spectral ruleset, with $refs resolved relative to FILE).
//   node asyncapi-check.mjs FILE
// stdout: one JSON line {"errors": [{code, message, path}...], "warnings": N}
//   (errors = diagnostics of severity 0; warnings = count of severity 1; each warning is
//   also described on stderr). Exit 1 if there is any error diagnostic (or FILE cannot be
//   read), else 0.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Parser } from "@asyncapi/parser";

const file = process.argv[2];
if (!file) {
  console.error("usage: node asyncapi-check.mjs FILE");
  process.exit(2);
}

const path = resolve(file);
let text;
try {
  text = readFileSync(path, "utf8");
} catch (err) {
  console.log(JSON.stringify({ errors: [{ code: "unreadable", message: String(err.message), path: [] }], warnings: 0 }));
  process.exit(1);
}

const { diagnostics } = await new Parser().parse(text, { source: path });
const pick = (d) => ({ code: d.code, message: d.message, path: d.path });
const errors = diagnostics.filter((d) => d.severity === 0).map(pick);
const warnings = diagnostics.filter((d) => d.severity === 1);
for (const w of warnings) console.error(`warning ${w.code}: ${w.message} at /${w.path.join("/")}`);
console.log(JSON.stringify({ errors, warnings: warnings.length }));
process.exit(errors.length > 0 ? 1 : 0);
