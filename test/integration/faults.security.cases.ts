/**
 * The security cases of the fault matrix (issue 23, "a cloned repository is untrusted input"), run by
 * faults.matrix.test.ts with the other kinds and counted in its tally. Each case builds the hostile
 * repository content for real (symlinks to /dev/zero, FIFOs, sparse files, forged caches, a shadowing
 * Python package, escape sequences and Markdown in run files) and runs the real reader: the CLI as a
 * child process (so a regression hangs or grows a child, which the case kills and reports, not the test
 * runner), the core readers, the extension's pure modules and the PyTorch launcher.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { crc32 } from 'zlib';
import { loadExamples } from '../../src/core/data/load';
import { BLOCK_LINES, INDEX_SUFFIX, lineIndexOf, tempIndexDir } from '../../src/core/data/lineIndex';
import { Bm25Index } from '../../src/core/lexical/bm25Index';
import { loadBm25Cache, saveBm25Cache } from '../../src/core/lexical/bm25Cache';
import { RunWriter, readRun } from '../../src/core/runs';
import { startTorchrunTrainer } from '../../src/trainer/launch/torchrun';
import { DEBIAN_PYTHON } from '../../src/trainer/launch/torchrunArgs';
import { runTooltip } from '../../src/extension/runs/runItems';
import { escapeMarkdown, untrustedMarkdown, type MarkdownFlags } from '../../src/extension/shared/markdownText';
import { countDataPath, uncountedNote, type LensScope } from '../../src/extension/dataLens/dataLensCount';
import { dataSpecsOf } from '../../src/extension/dataLens/dataSpecs';
import { SHOP_CORPUS, SHOP_TRAIN, shopField } from '../helpers/smallExperiment';
import { torchSkip } from '../helpers/torch';

const REPO = path.resolve(__dirname, '../..');
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `rlens-sec-${prefix}-`));

/** What a case found (as faults.matrix.test.ts's Outcome). */
export interface SecurityOutcome {
  message: string;
  located: boolean;
  intact: boolean;
}

/** Limits a CLI child must stay under: a bounded read of hostile files takes well under a second and little memory. */
const CLI_TIMEOUT_MS = 60_000;
const CLI_MAX_RSS_KB = 600 * 1024;

/** Runs `retrieval-lens <args>` (src/cli.ts through tsx) under /usr/bin/time: output, exit code, peak RSS; killed after CLI_TIMEOUT_MS. */
function cli(args: string[]): { out: string; err: string; code: number | null; rssKb: number; timedOut: boolean } {
  const r = spawnSync('/usr/bin/time', ['-f', 'RLENS_RSS_KB %M', process.execPath, '--import', 'tsx', path.join(REPO, 'src/cli.ts'), ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: CLI_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 64 << 20,
  });
  const rss = /RLENS_RSS_KB (\d+)/.exec(r.stderr ?? '');
  return {
    out: r.stdout ?? '',
    err: (r.stderr ?? '').replace(/RLENS_RSS_KB \d+\n?/, ''),
    code: r.status,
    rssKb: rss ? Number(rss[1]) : NaN,
    timedOut: r.error !== undefined || r.signal !== null,
  };
}

/** A finished run (meta.json, events.jsonl with a log event) under `root`; `meta` fields then written over meta.json's (hostile content). */
async function run(root: string, name: string, meta: Record<string, unknown> = {}): Promise<string> {
  const w = await RunWriter.create(root, name, { name });
  w.appendEvent({ type: 'log', level: 'info', message: 'hello' });
  w.finish('completed');
  const file = path.join(w.dir, 'meta.json');
  if (Object.keys(meta).length > 0) fs.writeFileSync(file, JSON.stringify({ ...(JSON.parse(fs.readFileSync(file, 'utf8')) as object), ...meta }));
  return w.dir;
}

/** A FIFO at `file` (mkfifo). */
function fifo(file: string): void {
  const r = spawnSync('mkfifo', [file]);
  if (r.status !== 0) throw new Error(`mkfifo ${file}: ${r.stderr}`);
}

const bounded = (r: ReturnType<typeof cli>) => !r.timedOut && r.rssKb < CLI_MAX_RSS_KB;
const cliSummary = (r: ReturnType<typeof cli>) =>
  `${r.timedOut ? `killed after ${CLI_TIMEOUT_MS / 1000} s` : `exit ${r.code}`}, peak RSS ${Math.round(r.rssKb / 1024)} MB\n${r.out}${r.err}`;

export const securityCases: { name: string; run: () => Promise<SecurityOutcome | 'skipped'> }[] = [
  {
    name: 'runs: meta.json -> /dev/zero, meta.json a FIFO, events.jsonl a FIFO, a sparse 3 GB meta.json',
    run: async () => {
      const root = tmp('runs');
      const zero = await run(root, 'zero');
      fs.rmSync(path.join(zero, 'meta.json'));
      fs.symlinkSync('/dev/zero', path.join(zero, 'meta.json'));
      const pipe = await run(root, 'pipe');
      fs.rmSync(path.join(pipe, 'meta.json'));
      fifo(path.join(pipe, 'meta.json'));
      const events = await run(root, 'events');
      fs.rmSync(path.join(events, 'events.jsonl'));
      fifo(path.join(events, 'events.jsonl'));
      const sparse = await run(root, 'sparse');
      fs.truncateSync(path.join(sparse, 'meta.json'), 3 * 1024 ** 3);
      const r = cli(['runs', '--dir', root]);
      const said = (dir: string, what: RegExp) =>
        new RegExp(`${path.basename(dir)}: .*${path.join(dir, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\S+ ${what.source}`).test(r.out);
      return {
        message: cliSummary(r),
        located:
          r.code === 0 &&
          said(zero, /is a character device, not a regular file/) &&
          said(pipe, /is a FIFO \(named pipe\), not a regular file/) &&
          said(events, /is a FIFO \(named pipe\), not a regular file/) &&
          said(sparse, /is 3221225472 bytes, more than the 4 MiB a meta\.json file may hold/),
        intact: bounded(r),
      };
    },
  },
  {
    name: 'compare: eval/failures.jsonl -> /dev/zero and eval/metrics.json a FIFO',
    run: async () => {
      const root = tmp('compare');
      const a = await run(root, 'a');
      const b = await run(root, 'b');
      fs.mkdirSync(path.join(a, 'eval'));
      fs.symlinkSync('/dev/zero', path.join(a, 'eval', 'failures.jsonl'));
      fs.mkdirSync(path.join(b, 'eval'));
      fifo(path.join(b, 'eval', 'metrics.json'));
      const r = cli(['compare', a, b]);
      return {
        message: cliSummary(r),
        located:
          r.code === 0 &&
          r.out.includes(`${path.join(a, 'eval', 'failures.jsonl')} is a character device, not a regular file`) &&
          r.out.includes(`${path.join(b, 'eval', 'metrics.json')} is a FIFO (named pipe), not a regular file`),
        intact: bounded(r),
      };
    },
  },
  {
    name: 'train: a config symlinked to /dev/zero, a config that is a FIFO',
    run: async () => {
      const dir = tmp('config');
      const zero = path.join(dir, 'zero.rlens.json');
      fs.symlinkSync('/dev/zero', zero);
      const pipe = path.join(dir, 'pipe.rlens.json');
      fifo(pipe);
      const rz = cli(['train', zero]);
      const rp = cli(['train', pipe]);
      return {
        message: `${cliSummary(rz)}\n${cliSummary(rp)}`,
        located:
          rz.code === 2 &&
          rz.err.includes(`config ${zero}: is a character device, not a regular file`) &&
          rp.code === 2 &&
          rp.err.includes(`config ${pipe}: is a FIFO (named pipe), not a regular file`),
        intact: bounded(rz) && bounded(rp),
      };
    },
  },
  {
    name: 'runs: ESC, CR, NUL and a newline in run files print escaped (\\u001b), never forge lines',
    run: async () => {
      const root = tmp('escapes');
      const dir = await run(root, 'esc', { backend: 'wasm\u001b[31mRED\u0000\r\nFORGED LINE' });
      fs.appendFileSync(path.join(dir, 'events.jsonl'), '{"bad\u001b]0;title\u0007": \n');
      const r = cli(['runs', '--dir', root]);
      const raw = /[\u0000-\u0009\u000b-\u001f\u007f]/.test(r.out); // eslint-disable-line no-control-regex -- looking for control characters
      return {
        message: cliSummary(r),
        located: r.code === 0 && !raw && !/^FORGED/m.test(r.out) && r.out.includes('wasm\\u001b[31mRED\\u0000\\u000d\\u000aFORGED LINE'),
        intact: true,
      };
    },
  },
  {
    name: 'Runs tooltip: Markdown in meta.json (heading, command link, remote image, HTML) is shown literally',
    run: async () => {
      const dir = await run(tmp('markdown'), 'md', {
        name: 'x\n# Heading [run me](command:workbench.action.terminal.new) ![](https://evil.example/t.png) <img src=x> $(zap)',
        backend: '`code` **bold**',
        error: { message: '[link](https://evil.example)' },
      });
      const tip = runTooltip(readRun(dir));
      // Every Markdown-active character of the run's content is backslash-escaped; line breaks are gone.
      const unescaped = /(^|[^\\])[[\]!<>`#*$()]/;
      const fromRun = tip.split('\n').filter((l) => /Heading|code|link/.test(l));
      const md = untrustedMarkdown<MarkdownFlags>({ isTrusted: true, supportHtml: true, supportThemeIcons: true });
      // Every MarkdownString the extension builds goes through untrustedMarkdown.
      const unflagged: string[] = [];
      const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) walk(p);
          else if (p.endsWith('.ts'))
            fs.readFileSync(p, 'utf8')
              .split('\n')
              .forEach(
                (l, i) =>
                  l.includes('new vscode.MarkdownString(') && !l.includes('untrustedMarkdown(new vscode.MarkdownString(') && unflagged.push(`${p}:${i + 1}`),
              );
        }
      };
      walk(path.join(REPO, 'src/extension'));
      return {
        message: `${tip}\nunflagged: ${unflagged.join(', ') || 'none'}`,
        located:
          fromRun.length === 3 &&
          fromRun.every((l) => !unescaped.test(l.replace(/^\*\*|\*\*(?= —)|^- (backend|error): /g, ''))) &&
          !/^#/m.test(tip) &&
          escapeMarkdown('![a](b)') === '\\!\\[a\\]\\(b\\)' &&
          md.isTrusted === false &&
          md.supportHtml === false &&
          unflagged.length === 0,
        intact: true,
      };
    },
  },
  {
    name: 'line index cache with shifted offsets (same size and mtime), with and without a fixed checksum: rebuilt with a notice',
    run: async () => {
      const dir = tmp('index');
      const file = path.join(dir, 'train.jsonl');
      const lines = fs
        .readFileSync(SHOP_TRAIN, 'utf8')
        .split('\n')
        .filter(Boolean)
        .slice(0, 20 * BLOCK_LINES);
      fs.writeFileSync(file, lines.join('\n') + '\n');
      const truth = await lineIndexOf(file);
      const cacheFile = file + INDEX_SUFFIX;
      const forge = (fixSum: boolean) => {
        const buf = fs.readFileSync(cacheFile);
        const v = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
        const header = 8;
        for (let i = header + 1; i < v.length - 1; i++) v[i] += 7; // every inner block offset 7 bytes late
        if (fixSum) {
          const bytes = new Uint8Array(v.buffer);
          v[header - 1] = crc32(bytes.subarray(header * 8), crc32(bytes.subarray(0, (header - 1) * 8)));
        }
        fs.writeFileSync(cacheFile, new Uint8Array(v.buffer));
      };
      const reasons: string[] = [];
      let ok = truth.built.cacheFile === cacheFile;
      for (const fixSum of [false, true]) {
        forge(fixSum);
        const again = await lineIndexOf(file);
        reasons.push(...again.built.rejected);
        ok &&= !again.built.fromCache && again.built.rejected.length === 1 && JSON.stringify([...again.offsets]) === JSON.stringify([...truth.offsets]);
      }
      // Training reads every example, no false bad line.
      const loaded = await loadExamples({ path: file, format: 'jsonl' });
      return {
        message: reasons.join('\n'),
        located:
          ok &&
          /checksum does not match/.test(reasons[0] ?? '') &&
          /is not at a line start/.test(reasons[1] ?? '') &&
          reasons.every((r) => r.startsWith(cacheFile)) &&
          loaded.report.badCount === 0 &&
          loaded.examples.length === lines.length,
        intact: true,
      };
    },
  },
  {
    name: "the temp index cache folder: another user's (or a shared 0777) folder is never used; ours is created 0700",
    run: async () => {
      const saved = process.env.TMPDIR;
      const fakeTmp = tmp('tmpdir');
      process.env.TMPDIR = fakeTmp;
      try {
        const dir = tmp('unwritable');
        const file = path.join(dir, 'train.jsonl');
        fs.writeFileSync(file, fs.readFileSync(SHOP_TRAIN, 'utf8').split('\n').slice(0, 600).join('\n'));
        fs.mkdirSync(file + INDEX_SUFFIX); // the cache beside the data cannot be written: the temp folder is next
        const shared = tempIndexDir();
        fs.mkdirSync(shared, { mode: 0o777 });
        fs.chmodSync(shared, 0o777);
        fs.chownSync(shared, 4242, 4242);
        const first = await lineIndexOf(file);
        const plantedNothing = fs.readdirSync(shared).length === 0;
        fs.rmSync(shared, { recursive: true });
        const second = await lineIndexOf(file);
        const st = fs.lstatSync(shared);
        const third = await lineIndexOf(file);
        return {
          message: `shared folder: cache ${first.built.cacheFile}; own folder mode ${(st.mode & 0o777).toString(8)}, cache ${second.built.cacheFile}`,
          located:
            first.built.cacheFile === null &&
            plantedNothing &&
            second.built.cacheFile?.startsWith(shared + path.sep) === true &&
            (st.mode & 0o777) === 0o700 &&
            st.uid === process.getuid?.() &&
            third.built.fromCache,
          intact: true,
        };
      } finally {
        if (saved === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = saved;
      }
    },
  },
  {
    name: 'bm25.bin with a section overwritten in place (same size): refused by its checksum and rebuilt',
    run: async () => {
      const texts = shopField(SHOP_CORPUS, 'text');
      const dir = tmp('bm25');
      saveBm25Cache(dir, Bm25Index.build(texts), 'corpus-fp', texts.length);
      const file = path.join(dir, 'bm25.bin');
      const bytes = fs.readFileSync(file);
      // Document lengths zeroed at the end of their section: BM25 scores change, the structure stays valid. The
      // section is found as the reader finds it (Bm25Index.toBuffer): after the header and the terms, each section
      // at a multiple of 8 bytes — offsets, rows, term frequencies, then lengths.
      const headerLen = bytes.readUInt32LE(7);
      const h = JSON.parse(bytes.subarray(11, 11 + headerLen).toString('utf8')) as { terms: number; postings: number; documents: number; termBytes: number };
      let at = 11 + headerLen + h.termBytes;
      for (const size of [(h.terms + 1) * 4, h.postings * 4, h.postings * 2, h.documents * 4]) at += ((8 - (at % 8)) % 8) + size;
      bytes.fill(0, at - 2000, at);
      fs.writeFileSync(file, bytes);
      const log: string[] = [];
      const got = loadBm25Cache([dir], 'corpus-fp', texts.length, (m) => log.push(m));
      return {
        message: log.join('\n'),
        located: got === null && log.some((m) => m.includes(dir) && /section "lengths" does not match its checksum/.test(m) && /rebuilding/.test(m)),
        intact: true,
      };
    },
  },
  {
    name: 'data lenses: /dev/zero, four FIFOs, "/**/*.jsonl" and "/usr" end fast, in Restricted Mode without looking outside the workspace',
    run: async () => {
      const ws = tmp('workspace');
      fs.mkdirSync(path.join(ws, 'pipes'));
      for (let i = 0; i < 4; i++) fifo(path.join(ws, 'pipes', `p${i}.jsonl`));
      fs.writeFileSync(path.join(ws, 'ok.jsonl'), fs.readFileSync(SHOP_TRAIN, 'utf8').split('\n').slice(0, 50).join('\n'));
      const config = path.join(ws, 'x.rlens.json');
      const text = JSON.stringify({ data: { train: ['/dev/zero', 'pipes/p0.jsonl', 'pipes/p1.jsonl', 'pipes/*.jsonl', '/**/*.jsonl', '/usr', 'ok.jsonl'] } });
      const specs = dataSpecsOf(config, text);
      const restricted: LensScope = { trusted: false, roots: [ws] };
      const trusted: LensScope = { trusted: true, roots: [ws] };
      const lines: string[] = [];
      const t0 = Date.now();
      const states = [];
      for (const scope of [restricted, trusted]) {
        for (const d of specs) {
          const t = Date.now();
          const note = await uncountedNote(d, undefined, scope);
          const c = note ? { state: note } : await countDataPath(d, undefined, scope);
          const state = c.state as { kind: string; message?: string; examples?: number };
          states.push(state);
          lines.push(
            `${scope.trusted ? 'trusted' : 'restricted'} ${d.spec.label} (${Date.now() - t} ms): ${state.kind} ${state.message ?? state.examples ?? ''}`,
          );
        }
      }
      // The libuv threadpool is free: a read completes at once.
      const t1 = Date.now();
      await fs.promises.readFile(config + '.missing').catch(() => undefined);
      const poolMs = Date.now() - t1;
      const elapsed = Date.now() - t0;
      const r = states.slice(0, specs.length);
      const msg = (i: number) => r[i].message ?? '';
      return {
        message: `${lines.join('\n')}\nthreadpool answered in ${poolMs} ms; all in ${elapsed} ms`,
        located:
          /\/dev\/zero is not a regular file/.test(msg(0)) &&
          /p0\.jsonl is not a regular file/.test(msg(1)) &&
          /no file matches/.test(msg(3)) &&
          /is outside the workspace: not read in Restricted Mode/.test(msg(4)) &&
          /\/usr is outside the workspace/.test(msg(5)) &&
          r[6].kind === 'loaded' &&
          // Trusted: the same refusals for the special files and the empty glob; "/**/*.jsonl" and "/usr" may be
          // counted (this machine's files decide what they match) as long as it ends within the bounds; ok.jsonl loads.
          states.slice(specs.length).every((st, i) => (i <= 3 ? st.kind === 'error' && st.message === r[i].message : i === 6 ? st.kind === 'loaded' : true)),
        intact: poolMs < 2000 && elapsed < 60_000,
      };
    },
  },
  {
    name: 'torchrun: a retrieval_lens/ package beside the config is never imported (the bundled trainer runs)',
    run: async () => {
      if (torchSkip) return 'skipped';
      const dir = tmp('shadow');
      const marker = path.join(dir, 'SHADOW-RAN');
      for (const pkg of ['retrieval_lens', 'torch']) {
        fs.mkdirSync(path.join(dir, pkg));
        fs.writeFileSync(path.join(dir, pkg, '__init__.py'), `open(${JSON.stringify(marker)}, "a").write("${pkg}\\n")\n`);
      }
      const data = path.join(REPO, 'examples', 'shop', 'data');
      const config = path.join(dir, 'shadow.rlens.json');
      fs.writeFileSync(
        config,
        JSON.stringify({
          data: { train: path.join(data, 'train.jsonl') },
          model: { vocabBuckets: 1024, embeddingDim: 8, hiddenDim: 8, outputDim: 8 },
          training: { steps: 2, batchSize: 16, logEvery: 1, checkpointEvery: 1000 },
          trainer: { kind: 'torchrun', nprocPerNode: 1, python: DEBIAN_PYTHON },
        }),
      );
      const h = startTorchrunTrainer(
        { configPath: config, overrides: [], trainer: { kind: 'torchrun', nprocPerNode: 1, python: DEBIAN_PYTHON, module: 'retrieval_lens.train' } },
        () => undefined,
        {
          env: { ...process.env, OMP_NUM_THREADS: '1' },
        },
      );
      const done = await h.done;
      const ran = fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').trim().split('\n') : [];
      return {
        message: `${done ? `${done.status} at step ${done.step}` : h.failure?.message}; repository packages imported: ${ran.join(', ') || 'none'}`,
        located: done?.status === 'completed' && ran.length === 0,
        intact: true,
      };
    },
  },
];
