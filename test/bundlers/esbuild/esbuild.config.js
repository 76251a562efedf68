// The esbuild fixture's build options (esbuild.build(options)). For qemu-thread: the thread worker is an
// entry point of its own, named as src/main.ts refers to it (entryNames), in an ES-module build with code
// splitting (the thread worker imports its thread modules with import()).
export default {
  entryPoints: ['src/main.ts', 'src/app/threads.ts'],
  entryNames: '[name]',
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  splitting: true,
  minify: true,
};
