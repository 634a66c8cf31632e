// The GraphQL IDE served at /graphql: a second Vite build, separate from the console's (web/vite.config.mts), that
// bundles GraphiQL 5 with the React the console uses into web/dist/graphiql. There is no HTML here: the server writes
// the page (src/infra/http/graphiql/page.ts) from Vite's manifest, adding the endpoint and the editor defaults.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  // Relative: chunks and Monaco's workers are found next to the script that loads them (import.meta.url), so the IDE
  // works wherever the server mounts it; the server names the entry's own files in the page.
  base: './',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: '../dist/graphiql',
    emptyOutDir: true,
    assetsDir: 'assets',
    // .vite/manifest.json: the entry's script and stylesheets, read by the server.
    manifest: true,
    // A third-party tool: its maps would more than double the build for no debugging of ours.
    sourcemap: false,
    // Files rather than data: URLs for assets of ours (GraphiQL's own stylesheet inlines its fonts regardless).
    assetsInlineLimit: 0,
    // Monaco is one large chunk by nature; the page loads it once and caches it for good.
    chunkSizeWarningLimit: 5000,
    rolldownOptions: {
      input: { graphiql: `${import.meta.dirname}/main.tsx` },
      onwarn(warning, warn) {
        // GraphiQL's dependencies (framer-motion, radix) mark modules "use client", which only React Server Components read.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
});
