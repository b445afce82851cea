// Two builds (an array; `--config-name extension|dashboard` picks one):
// - "extension": bundles the Node-side entry points into dist/: the VS Code extension, the background
//   trainer process (and its host-lane worker thread) and the CLI. npm dependencies stay external (required from node_modules at run time):
//   tfjs' wasm backend loads its .wasm files relative to its own package, and faiss-node is a native addon.
// - "dashboard": bundles the Dashboard webview (src/webview/dashboard/main.ts, with Chart.js and
//   chartjs-plugin-annotation) for the browser into media/dashboard.js, the Embedding Map webview
//   (src/webview/embeddingMap/main.ts, a canvas) into media/embeddingMap.js, the Experiments webview (run
//   comparison and sweep result, src/webview/experiments/main.ts, sharing the dashboard's chart code) into
//   media/experiments.js, the Failing Query detail (src/webview/failureDetail/main.ts) into media/failureDetail.js,
//   and copies the codicon font and stylesheet into media/codicons/. media/dashboard.css, media/experiments.css
//   and media/failureDetail.css are static files and are not touched.
const fs = require('fs');
const path = require('path');
const pkg = require('./package.json');

// tsx: only referenced on the path that runs the TypeScript sources (workerScript.ts, when dist/<worker>.js is absent).
const external = new Set(['vscode', ...Object.keys(pkg.dependencies || {}), ...Object.keys(pkg.optionalDependencies || {}), '@tensorflow/tfjs-node', 'tsx']);

/** Copies the codicon stylesheet and font next to the dashboard bundle (media/codicons/). */
class CopyCodiconsPlugin {
  apply(compiler) {
    compiler.hooks.afterEmit.tap('CopyCodiconsPlugin', () => {
      const from = path.dirname(require.resolve('@vscode/codicons/dist/codicon.css'));
      const to = path.resolve(__dirname, 'media', 'codicons');
      fs.mkdirSync(to, { recursive: true });
      for (const file of ['codicon.css', 'codicon.ttf']) fs.copyFileSync(path.join(from, file), path.join(to, file));
    });
  }
}

/**
 * Webpack's persistent cache (node_modules/.cache/webpack): `npm test` builds again right after scripts/setup.sh
 * built, and a build of unchanged sources then takes seconds instead of half a minute. Named per checkout (a hash
 * of its path), so worktrees sharing one node_modules never share a cache.
 */
function persistentCache(name) {
  const checkout = require('crypto').createHash('sha256').update(__dirname).digest('hex').slice(0, 12);
  return { type: 'filesystem', name: `${name}-${checkout}`, buildDependencies: { config: [__filename] } };
}

const tsRule = { test: /\.ts$/, exclude: /node_modules/, use: [{ loader: 'ts-loader', options: { transpileOnly: true } }] };

/** @type {import('webpack').Configuration} */
const extensionConfig = {
  name: 'extension',
  target: 'node20',
  mode: 'production',
  entry: {
    extension: './src/extension/extension.ts',
    trainer: './src/trainer/main.ts',
    // The trainer's host-lane worker thread (started from dist/trainer.js by path: see hostLanes.ts).
    laneWorker: './src/core/training/laneWorker.ts',
    // A parallel BM25 search's worker thread (started by path from the bundle that searches: see parallelSearch.ts).
    bm25Worker: './src/core/lexical/bm25Worker.ts',
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
      const root =
        request &&
        request
          .split('/')
          .slice(0, request.startsWith('@') ? 2 : 1)
          .join('/');
      if (root && external.has(root)) return callback(null, 'commonjs ' + request);
      callback();
    },
  ],
  resolve: { extensions: ['.ts', '.js', '.json'] },
  module: { rules: [tsRule] },
  node: { __dirname: false, __filename: false },
  devtool: 'source-map',
  optimization: { minimize: false },
  performance: { hints: false },
  cache: persistentCache('extension'),
};

/** @type {import('webpack').Configuration} */
const dashboardConfig = {
  name: 'dashboard',
  target: 'web',
  mode: 'production',
  entry: {
    dashboard: './src/webview/dashboard/main.ts',
    embeddingMap: './src/webview/embeddingMap/main.ts',
    experiments: './src/webview/experiments/main.ts',
    failureDetail: './src/webview/failureDetail/main.ts',
  },
  output: {
    path: path.resolve(__dirname, 'media'),
    filename: '[name].js',
    // media/ also holds static files (dashboard.css): never clean it.
    clean: false,
  },
  resolve: { extensions: ['.ts', '.js', '.json'] },
  // ES modules out of ts-loader so that webpack can tree-shake Chart.js to the registered parts.
  module: { rules: [{ ...tsRule, use: [{ loader: 'ts-loader', options: { transpileOnly: true, compilerOptions: { module: 'es2020' } } }] }] },
  plugins: [new CopyCodiconsPlugin()],
  devtool: false,
  performance: { hints: false },
  cache: persistentCache('dashboard'),
};

module.exports = [extensionConfig, dashboardConfig];
