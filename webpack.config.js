// Bundles the Node-side entry points into dist/: the VS Code extension, the background trainer process and
// the CLI. npm dependencies stay external (required from node_modules at run time): tfjs' wasm backend loads
// its .wasm files relative to its own package, and faiss-node is a native addon.
const path = require('path');
const pkg = require('./package.json');

const external = new Set(['vscode', ...Object.keys(pkg.dependencies || {}), ...Object.keys(pkg.optionalDependencies || {}), '@tensorflow/tfjs-node']);

/** @type {import('webpack').Configuration} */
module.exports = {
  target: 'node20',
  mode: 'production',
  entry: {
    extension: './src/extension/extension.ts',
    trainer: './src/trainer/main.ts',
    cli: './src/cli.ts',
  },
  output: {
    path: path.resolve(__dirname, 'dist'),
    filename: '[name].js',
    libraryTarget: 'commonjs2',
    clean: true,
  },
  externals: [
    ({ request }, callback) => {
      const root = request && request.split('/').slice(0, request.startsWith('@') ? 2 : 1).join('/');
      if (root && external.has(root)) return callback(null, 'commonjs ' + request);
      callback();
    },
  ],
  resolve: { extensions: ['.ts', '.js', '.json'] },
  module: {
    rules: [{ test: /\.ts$/, exclude: /node_modules/, use: [{ loader: 'ts-loader', options: { transpileOnly: true } }] }],
  },
  node: { __dirname: false, __filename: false },
  devtool: 'source-map',
  optimization: { minimize: false },
  performance: { hints: false },
};
