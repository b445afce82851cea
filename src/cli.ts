/**
 * retrieval-lens command line:
 *   retrieval-lens train <config> [--steps N] [--out DIR] [--set key=value …]
 *   retrieval-lens train --resume RUN [config] [--steps N] [--out DIR] [--set key=value …]
 *   retrieval-lens eval <run|checkpoint> [--data FILE] [--checkpoint last|best | --embeddings DIR]
 *   retrieval-lens runs [--dir DIR] [--filter "tag:T status:S word"] [--archived]
 *   retrieval-lens runs rename|note|tag <run> <text> | archive|restore <run> | delete <run> [--yes]   [--dir DIR]
 *   retrieval-lens new --train PATH [--test PATH] [--corpus PATH] [--name NAME] [--out FILE.rlens.json] [--force]
 *   retrieval-lens sweep <config> --param P (--values a,b,c | --range a:b:n) [--seeds N] [--concurrency N] [--steps N] | --resume <sweep folder>
 *   retrieval-lens ablate <config> [--seeds N] [--steps N] [--concurrency N] [--variants a,b,…]
 *   retrieval-lens export-embeddings <run|checkpoint> [--out DIR] [--items N] [--queries N] [--projection pca|umap|none]
 *   retrieval-lens compare <run> <run>… [--failures N] [--search exact|ann]
 *   retrieval-lens audit <config> [--json] [--shared N] [--set key=value …]
 */
import { parseArgs } from 'util';
import { auditCommand } from './cli/auditCommand';
import { compareCommand } from './cli/compareCommand';
import { evalCommand, EvalTargetError } from './cli/evalCommand';
import { exportEmbeddingsCommand } from './cli/exportEmbeddingsCommand';
import { RUN_ACTIONS, runActionCommand, RunActionError, runsCommand, type RunAction } from './cli/runsCommand';
import { newCommand } from './cli/newCommand';
import { sweepCommand } from './cli/sweepCommand';
import { positiveIntegerFlag } from './core/config/numbers';
import { parseRange, parseValueList, parseVariants } from './core/experiments/sweepPlan';
import { trainCommand } from './cli/trainCommand';
import { VERSION } from './core/version';

const USAGE = `retrieval-lens ${VERSION}
usage:
  retrieval-lens train <config.rlens.json> [--steps N] [--out RUNS_DIR] [--set key=value ...]
  retrieval-lens train --resume RUN_DIR [config.rlens.json] [--steps N] [--out RUNS_DIR] [--set key=value ...]
  retrieval-lens eval <run-folder|checkpoint-folder> [--data TEST_FILE] [--checkpoint last|best | --embeddings DIR]
  retrieval-lens runs [--dir RUNS_DIR] [--filter "tag:T status:S config:C word ..."] [--archived]
  retrieval-lens runs rename <run> <name> [--dir RUNS_DIR]       (a display name; "" gives the experiment name back)
  retrieval-lens runs note <run> <text> [--dir RUNS_DIR]         ("" removes the note)
  retrieval-lens runs tag <run> "<tag>, <tag>" [--dir RUNS_DIR]  (replaces the run's tags; "" removes them)
  retrieval-lens runs archive <run> [--dir RUNS_DIR]             (moves it to RUNS_DIR/.archive; refused while training)
  retrieval-lens runs restore <run> [--dir RUNS_DIR]             (an archived run back into RUNS_DIR)
  retrieval-lens runs delete <run> [--yes] [--dir RUNS_DIR]      (asks first; --yes when not on a terminal)
  retrieval-lens new --train TRAIN_FILE|BEIR_FOLDER [--test TEST_FILE|BEIR_FOLDER] [--corpus CORPUS] [--name NAME] [--out NAME.rlens.json] [--steps 1000] [--force]
  retrieval-lens sweep <config.rlens.json> --param loss.margin (--values 0.05,0.1,0.2 | --range 0.05:0.5:5) [--seeds 3] [--concurrency N] [--steps N] [--metric recall@10] [--set key=value ...]
  retrieval-lens sweep --resume <sweep-folder>
  retrieval-lens ablate <config.rlens.json> [--seeds 3] [--steps N] [--concurrency N] [--variants softmax-fixed,softmax-adaptive-sg-sym,softmax-learned,softmax-adap-tau] [--set key=value ...]
  retrieval-lens export-embeddings <run-folder|checkpoint-folder> [--out DIR] [--items 5000] [--queries 1000] [--projection pca|umap|none] [--checkpoint last|best]
  retrieval-lens compare <run-folder> <run-folder> [...] [--failures 10] [--search exact|ann]
  retrieval-lens audit <config.rlens.json> [--json] [--shared 5] [--set key=value ...]
`;

/** `retrieval-lens <command> --help`: that command's usage lines (exit 0), or the whole usage for an unknown one (exit 2). */
function commandHelp(command: string): number {
  const lines = USAGE.split('\n').filter((l) => l.startsWith(`  retrieval-lens ${command} `));
  if (lines.length === 0) {
    console.error(`retrieval-lens: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  console.log(`usage:\n${lines.join('\n')}\n\nEvery option is described in README.md, section "The command line".`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command === '--version') {
    console.log(VERSION);
    return 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) return commandHelp(command);
  try {
    if (command === 'train') {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { steps: { type: 'string' }, out: { type: 'string' }, set: { type: 'string', multiple: true }, resume: { type: 'string' } },
      });
      if (values.resume === undefined ? positionals.length !== 1 : positionals.length > 1)
        throw new Error(values.resume === undefined ? 'train takes exactly one config file' : 'train --resume RUN takes at most one config file');
      const steps = values.steps === undefined ? undefined : positiveIntegerFlag('steps', values.steps);
      return await trainCommand({ config: positionals[0], resume: values.resume, steps, out: values.out, set: values.set ?? [] });
    }
    if (command === 'eval') {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { data: { type: 'string' }, checkpoint: { type: 'string' }, embeddings: { type: 'string' } },
      });
      if (positionals.length !== 1) throw new Error('eval takes exactly one run or checkpoint folder');
      const ck = values.checkpoint;
      if (ck !== undefined && ck !== 'last' && ck !== 'best') throw new Error(`--checkpoint must be last or best, got "${ck}"`);
      if (ck !== undefined && values.embeddings !== undefined)
        throw new Error('--checkpoint and --embeddings exclude each other: --embeddings evaluates that folder instead of a checkpoint');
      return await evalCommand({ target: positionals[0], data: values.data, checkpoint: ck, embeddings: values.embeddings });
    }
    if (command === 'export-embeddings') {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          out: { type: 'string' },
          items: { type: 'string', default: '5000' },
          queries: { type: 'string', default: '1000' },
          projection: { type: 'string', default: 'pca' },
          checkpoint: { type: 'string' },
        },
      });
      if (positionals.length !== 1) throw new Error('export-embeddings takes exactly one run or checkpoint folder');
      const count = (name: string, v: string | undefined) => {
        const n = Number(v);
        if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${v}"`);
        return n;
      };
      const projection = values.projection;
      if (projection !== 'pca' && projection !== 'umap' && projection !== 'none')
        throw new Error(`--projection must be pca, umap or none, got "${projection}"`);
      const ck = values.checkpoint;
      if (ck !== undefined && ck !== 'last' && ck !== 'best') throw new Error(`--checkpoint must be last or best, got "${ck}"`);
      return await exportEmbeddingsCommand({
        target: positionals[0],
        out: values.out,
        items: count('items', values.items),
        queries: count('queries', values.queries),
        projection,
        checkpoint: ck,
      });
    }
    if (command === 'compare') {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { failures: { type: 'string', default: '10' }, search: { type: 'string', default: 'exact' } },
      });
      const failures = Number(values.failures);
      if (!Number.isSafeInteger(failures) || failures < 0) throw new Error(`--failures must be a non-negative integer, got "${values.failures}"`);
      if (values.search !== 'exact' && values.search !== 'ann') throw new Error(`--search must be exact or ann, got "${values.search}"`);
      return compareCommand({ runs: positionals, failures, search: values.search });
    }
    if (command === 'sweep' || command === 'ablate') {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          param: { type: 'string' },
          values: { type: 'string' },
          range: { type: 'string' },
          seeds: { type: 'string' },
          concurrency: { type: 'string' },
          steps: { type: 'string' },
          metric: { type: 'string' },
          resume: { type: 'string' },
          set: { type: 'string', multiple: true },
          variants: { type: 'string' },
        },
      });
      const int = (name: string, v: string | undefined) => {
        if (v === undefined) return undefined;
        return positiveIntegerFlag(name, v);
      };
      const ablate = command === 'ablate';
      if (values.resume !== undefined) {
        if (positionals.length > 0) throw new Error(`${command} --resume takes the sweep folder only`);
      } else {
        if (positionals.length !== 1) throw new Error(`${command} takes exactly one config file`);
        if (ablate && (values.param || values.values || values.range)) throw new Error('ablate takes no --param, --values or --range');
        if (!ablate && values.variants !== undefined) throw new Error('--variants is an ablate option (sweep varies one --param)');
        if (!ablate) {
          if (!values.param) throw new Error('sweep needs --param (a config path, e.g. loss.margin)');
          if ((values.values === undefined) === (values.range === undefined)) throw new Error('sweep needs exactly one of --values and --range');
        }
      }
      const swept = values.values !== undefined ? parseValueList(values.values) : values.range !== undefined ? parseRange(values.range) : undefined;
      return await sweepCommand({
        config: positionals[0],
        resume: values.resume,
        param: values.param,
        values: swept,
        seeds: int('seeds', values.seeds),
        concurrency: int('concurrency', values.concurrency),
        steps: int('steps', values.steps),
        metric: values.metric,
        set: values.set ?? [],
        ablate,
        variants: ablate && values.resume === undefined ? parseVariants(values.variants) : undefined,
      });
    }
    if (command === 'new') {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          train: { type: 'string' },
          test: { type: 'string' },
          corpus: { type: 'string' },
          name: { type: 'string' },
          out: { type: 'string' },
          steps: { type: 'string' },
          force: { type: 'boolean', default: false },
        },
      });
      if (positionals.length > 0) throw new Error(`new takes options only, got "${positionals[0]}"`);
      if (!values.train) throw new Error('new needs --train (a training file or a BEIR folder)');
      const steps = values.steps === undefined ? undefined : positiveIntegerFlag('steps', values.steps);
      return await newCommand({ ...values, train: values.train, steps, force: values.force! });
    }
    if (command === 'audit') {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { json: { type: 'boolean', default: false }, shared: { type: 'string' }, set: { type: 'string', multiple: true } },
      });
      if (positionals.length !== 1) throw new Error('audit needs one config file');
      const shared = values.shared !== undefined ? positiveIntegerFlag('shared', values.shared) : undefined;
      return auditCommand({
        config: positionals[0],
        json: values.json ?? false,
        set: values.set ?? [],
        ...(shared !== undefined ? { sharedPositiveMin: shared } : {}),
      });
    }
    if (command === 'runs') {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          dir: { type: 'string', default: 'runs' },
          filter: { type: 'string', default: '' },
          archived: { type: 'boolean', default: false },
          yes: { type: 'boolean', default: false },
        },
      });
      if (positionals.length === 0) return runsCommand(values.dir!, values.filter!, values.archived);
      const [action, ...args] = positionals;
      if (!(RUN_ACTIONS as readonly string[]).includes(action))
        throw new Error(`runs: unknown action "${action}" (one of ${RUN_ACTIONS.join(', ')}; none lists the runs)`);
      return await runActionCommand({ action: action as RunAction, args, dir: values.dir!, yes: values.yes! });
    }
    throw new Error(`unknown command "${command}"`);
  } catch (e) {
    if (e instanceof EvalTargetError || e instanceof RunActionError) console.error(`retrieval-lens: ${e.message}`);
    else console.error(`retrieval-lens: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    console.error(e);
    process.exitCode = 1;
  },
);
