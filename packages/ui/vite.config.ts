import { defineConfig } from "vite";

// The front end: src/web → dist/web, served by the package's own server.
export default defineConfig({
  root: "src/web",
  base: "/",
  build: { outDir: "../../dist/web", emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 300 },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
});
