// The webpack fixture's configuration: webpack's usual TypeScript set-up, nothing for qemu-thread (webpack
// builds `new Worker(new URL(...), { type: 'module' })` and its dynamic imports unaided).
import { fileURLToPath } from 'node:url';

export default {
  mode: 'production',
  entry: './src/main.ts',
  output: { path: fileURLToPath(new URL('./dist/', import.meta.url)) },
  resolve: { extensions: ['.ts', '.js'] },
  module: { rules: [{ test: /\.ts$/, loader: 'ts-loader', options: { transpileOnly: true } }] },
};
