// The Rollup fixture's configuration. For qemu-thread: the thread worker is an input of its own, named as
// src/main.ts refers to it (entryFileNames); the rest is Rollup's usual TypeScript set-up.
import { nodeResolve } from '@rollup/plugin-node-resolve';
import typescript from '@rollup/plugin-typescript';

export default {
  input: { main: 'src/main.ts', threads: 'src/app/threads.ts' },
  output: { dir: 'dist', format: 'es', entryFileNames: '[name].js' },
  plugins: [nodeResolve({ browser: true, extensions: ['.ts', '.js'] }), typescript()],
};
