// Builds static/js/echarts.min.js from the npm package echarts (pinned in package.json and
// package-lock.json) with only the chart types, components and renderer that entry.js
// imports, minified, and static/js/echarts.LICENSE.txt with the licences of everything in it.
//
//   cd tools/echarts && npm ci && npm run build
//
// The bundle starts with a header naming the ECharts version, what it holds and the SHA-256
// of everything after the header; TestEChartsBundle (generator/site) checks all three.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "static", "js");
const pkg = (name) => JSON.parse(readFileSync(join(here, "node_modules", name, "package.json"), "utf8"));
const text = (name, file) => readFileSync(join(here, "node_modules", name, file), "utf8");

// What entry.js imports from echarts/charts, echarts/components and echarts/renderers.
const entry = readFileSync(join(here, "entry.js"), "utf8");
const imported = (from) => {
  const m = entry.match(new RegExp(`import \\{([^}]*)\\} from "echarts/${from}";`));
  if (!m) throw new Error(`entry.js imports nothing from echarts/${from}`);
  return m[1].split(",").map((s) => s.trim()).filter(Boolean);
};
const charts = imported("charts");
const components = imported("components");
const renderers = imported("renderers");

const res = await esbuild.build({
  entryPoints: [join(here, "entry.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2017",
  legalComments: "none", // the licences are in echarts.LICENSE.txt beside the bundle
  define: { "process.env.NODE_ENV": '"production"' },
  write: false,
  logLevel: "warning",
});
const body = res.outputFiles[0].text;
const sha = createHash("sha256").update(body).digest("hex");
const echarts = pkg("echarts").version;
const header =
  `/*! Apache ECharts ${echarts} (zrender ${pkg("zrender").version}), built by tools/echarts/build.mjs with esbuild ${pkg("esbuild").version}\n` +
  ` * charts: ${charts.join(", ")}\n` +
  ` * components: ${components.join(", ")}\n` +
  ` * renderers: ${renderers.join(", ")}\n` +
  ` * sha256: ${sha}\n` +
  ` * Licensed under the Apache License 2.0; see echarts.LICENSE.txt and echarts.NOTICE.txt */\n`;
writeFileSync(join(out, "echarts.min.js"), header + body);

const section = (title, body) => `\n\n========================================================================\n${title}\n========================================================================\n\n${body.trim()}\n`;
writeFileSync(
  join(out, "echarts.LICENSE.txt"),
  text("echarts", "LICENSE").trimEnd() + "\n" +
    section(`zrender ${pkg("zrender").version} (bundled by ECharts), BSD 3-Clause`, text("zrender", "LICENSE")) +
    section("d3 (embedded by ECharts' src/util/number.ts), BSD 3-Clause", text("echarts", "licenses/LICENSE-d3")) +
    section(`tslib ${pkg("tslib").version} (helpers bundled by ECharts), 0BSD`, text("tslib", "LICENSE.txt")),
);
writeFileSync(join(out, "echarts.NOTICE.txt"), text("echarts", "NOTICE"));
console.log(`static/js/echarts.min.js: ${header.length + body.length} bytes, sha256 ${sha}`);
