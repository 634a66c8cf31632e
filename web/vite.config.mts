// Vite (8, Rolldown + Oxc) builds the console from web/ into web/dist; the server serves web/dist at `/`.
// No React plugin: Oxc compiles JSX with the automatic runtime, and the build needs nothing else.
// `npm run dev:web` proxies the API to a server on :4000 so the pages can be worked on with hot reload.
import { defineConfig } from 'vite';

const api = process.env.DERMAGRAPH_API ?? 'http://127.0.0.1:4000';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Hashed file names under /assets/: the server sends them with a one-year immutable Cache-Control.
    assetsDir: 'assets',
    sourcemap: true,
    // Inline assets would become data: URLs in CSS/JS; keep files so the CSP stays plain `'self'`.
    assetsInlineLimit: 0,
    rolldownOptions: {
      onwarn(warning, warn) {
        // react-router marks its modules "use client" (for React Server Components, which the console does not use).
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  server: {
    port: 5173,
    proxy: {
      '/graphql': { target: api, ws: true },
      // GraphiQL's files: the server serves them from its own build (web/dist/graphiql).
      '/graphiql': api,
      '/files': api,
      '/reports': api,
    },
  },
});
