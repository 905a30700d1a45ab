/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";
import { readdirSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

// The first page's JavaScript (entry chunk and what it imports statically), gzipped.
const FIRST_PAGE_BUDGET_KB = 250;

/** Writes .br and .gz beside every built asset (the server picks one by Accept-Encoding),
 * prints the first page's gzipped JavaScript and fails the build over the budget. */
function precompressAndMeasure(): Plugin {
  let firstPage: string[] = [];
  return {
    name: "cm-precompress-and-measure",
    apply: "build",
    generateBundle(_options, bundle) {
      const entry = Object.values(bundle).find((c) => c.type === "chunk" && c.isEntry);
      if (!entry || entry.type !== "chunk") return;
      const seen = new Set<string>();
      const walk = (name: string) => {
        if (seen.has(name)) return;
        seen.add(name);
        const chunk = bundle[name];
        if (chunk?.type === "chunk") chunk.imports.forEach(walk);
      };
      walk(entry.fileName);
      firstPage = [...seen];
    },
    writeBundle(options) {
      const dir = options.dir ?? resolve("dist");
      const assets = join(dir, "assets");
      for (const name of readdirSync(assets)) {
        if (!/\.(js|css|svg|json|html|txt)$/.test(name)) continue;
        const path = join(assets, name);
        const body = readFileSync(path);
        writeFileSync(`${path}.gz`, gzipSync(body, { level: 9 }));
        writeFileSync(
          `${path}.br`,
          brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
      const gzipped = firstPage.reduce(
        (sum, file) => sum + gzipSync(readFileSync(join(dir, file)), { level: 9 }).length,
        0,
      );
      const raw = firstPage.reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);
      const kb = (bytes: number) => (bytes / 1024).toFixed(1);
      console.log(
        `first page JavaScript: ${kb(gzipped)} KB gzipped (${kb(raw)} KB raw, ` +
          `${firstPage.length} files; budget ${FIRST_PAGE_BUDGET_KB} KB)`,
      );
      if (gzipped > FIRST_PAGE_BUDGET_KB * 1024) {
        throw new Error(`the first page's JavaScript is over ${FIRST_PAGE_BUDGET_KB} KB gzipped`);
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), tailwindcss(), precompressAndMeasure()],
  resolve: { alias: { "@": resolve(__dirname, "src") } },
  build: { sourcemap: false, reportCompressedSize: false, chunkSizeWarningLimit: 600 },
  server: {
    proxy: { "/api": { target: "http://127.0.0.1:8000", ws: true } },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
