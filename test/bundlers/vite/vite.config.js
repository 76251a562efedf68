// The Vite fixture's configuration. For qemu-thread: workers built as ES modules (Vite's default for
// workers is 'iife', which cannot hold the dynamic imports a thread worker loads its modules with); for
// the dev server, qemu-thread/worker pre-bundled from the start (its only importer is the thread worker,
// which Vite's scan of the page does not reach: found late, it would reload the page once); and, for the
// dev server and `vite preview`, the two headers of cross-origin isolation.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default {
  worker: { format: 'es' },
  optimizeDeps: { include: ['qemu-thread/worker'] },
  server: { headers: isolation },
  preview: { headers: isolation },
};
