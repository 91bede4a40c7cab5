import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The build goes into the Python package, which serves it under /console/.
export default defineConfig({
  base: "/console/",
  build: {
    outDir: fileURLToPath(new URL("../src/hotline/web/static", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
    modulePreload: { polyfill: false },
  },
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  test: {
    environment: "happy-dom",
    environmentOptions: { happyDOM: { url: "http://node.test/console/" } },
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
