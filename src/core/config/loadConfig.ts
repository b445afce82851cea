import * as path from 'path';
import Ajv, { type ErrorObject } from 'ajv';
import { findNodeAtLocation, parse, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import schema from '../../../schemas/experiment.schema.json';
import { ConfigError, type ConfigProblem } from './configError';
import { numberProblem } from './numbers';
import { learnedHyperProblem } from '../losses/learnedHyper';
import { towerPresetProblems } from '../model/towers/presets';
import { applyOverrides, parseOverride } from './overrides';
import { TextPositions } from './textPosition';
import { readBoundedSync, UnsafeFileError } from '../io/safeRead';
import { firstInvalidUtf8, invalidUtf8Reason } from '../utf8';
import type { ExperimentConfig, LoadedConfig } from './types';

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validateSchema = ajv.compile(schema);

/** The experiment JSON Schema (also published as schemas/experiment.schema.json for VS Code). */
export const EXPERIMENT_SCHEMA = schema;

/** Reads, parses (JSON with comments), applies `--set` overrides to, and validates a config file. */
export function loadConfig(file: string, overrides: string[] = []): LoadedConfig {
  const abs = path.resolve(file);
  let bytes: Buffer;
  try {
    bytes = readBoundedSync(abs, 'experiment config');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : e instanceof UnsafeFileError ? e.reason : String(e);
    throw new ConfigError(abs, [], `config ${abs}: ${why}`);
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad !== -1) {
    // Locate the byte as an editor would: line and column of the text before it.
    let prefix = bytes.toString('utf8', 0, bad);
    if (prefix.charCodeAt(0) === BOM) prefix = prefix.slice(1);
    const offset = prefix.length;
    throw new ConfigError(abs, [{ path: '', message: invalidUtf8Reason(bytes, bad), ...new TextPositions(prefix).at(offset), offset, length: 1 }]);
  }
  return parseConfigText(bytes.toString('utf8'), abs, overrides);
}

/** U+FEFF: a byte-order mark, written at the start of files by some Windows editors; ignored. */
const BOM = 0xfeff;

/**
 * Parses and validates config text. Every problem (syntax errors, schema violations, bad overrides) is
 * reported with its JSON path and line/column; nothing is thrown but a ConfigError.
 */
export function parseConfigText(text: string, file: string, overrides: string[] = []): LoadedConfig {
  if (text.charCodeAt(0) === BOM) text = text.slice(1);
  const positions = new TextPositions(text);
  const syntaxErrors: ParseError[] = [];
  const data = parse(text, syntaxErrors, { allowTrailingComma: true, disallowComments: false });
  if (syntaxErrors.length > 0) {
    throw new ConfigError(
      file,
      syntaxErrors.map((e) => ({
        path: '',
        message: `JSON syntax error: ${printParseErrorCode(e.error)}`,
        ...positions.at(e.offset),
        offset: e.offset,
        length: e.length,
      })),
    );
  }
  const root = parseTree(text, [], { allowTrailingComma: true });
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(file, [{ path: '', message: 'the config must be a JSON object', line: 1, column: 1, offset: 0, length: text.length }]);
  }
  const keys = checkKeys(root, positions);
  const numbers = checkNumbers(root, positions, text);
  if (keys.errors.length + numbers.length > 0) throw new ConfigError(file, [...keys.errors, ...numbers]);
  const overridden = new Set<string>();
  try {
    const parsed = overrides.map(parseOverride);
    applyOverrides(data, parsed);
    parsed.forEach((o) => overridden.add(o.path.join('.')));
  } catch (e) {
    throw new ConfigError(file, [], (e as Error).message);
  }
  if (!validateSchema(data)) {
    const problems = mergeOneOfErrors(validateSchema.errors ?? []).map((err) => locateSchemaError(err, root, positions, overridden));
    throw new ConfigError(file, dedupe(problems));
  }
  const trainerProblems = [
    ...checkTrainerKeys(data as unknown as ExperimentConfig, root, positions, overridden),
    ...checkLearnedHyper(data as unknown as ExperimentConfig, root, positions),
    ...towerPresetProblems((data as unknown as ExperimentConfig).model).map((p) => problemAt(root, positions, p.segments, p.message)),
  ];
  if (trainerProblems.length > 0) throw new ConfigError(file, trainerProblems);
  return { config: data as unknown as ExperimentConfig, path: file, baseDir: path.dirname(file), warnings: keys.warnings };
}

/**
 * Problems of the object keys of a parse tree: a key given twice in one object is a warning naming
 * both places (the last one is used, as in JSON.parse); a "__proto__" key is an error (it would set
 * the object's prototype instead of a field).
 */
function checkKeys(root: Node | undefined, positions: TextPositions): { errors: ConfigProblem[]; warnings: ConfigProblem[] } {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const at = (n: Node) => ({ ...positions.at(n.offset), offset: n.offset, length: n.length });
  const walk = (node: Node | undefined, pathSegs: string[]) => {
    if (!node) return;
    if (node.type === 'array') node.children?.forEach((c, i) => walk(c, [...pathSegs, String(i)]));
    if (node.type !== 'object') return;
    const seen = new Map<string, Node>();
    for (const prop of node.children ?? []) {
      const keyNode = prop.children?.[0];
      if (!keyNode) continue;
      const key = String(keyNode.value);
      const dotted = [...pathSegs, key].join('.');
      if (key === '__proto__') errors.push({ path: dotted, message: 'the key "__proto__" is not allowed', ...at(keyNode) });
      const first = seen.get(key);
      if (first) {
        const p = positions.at(first.offset);
        const q = positions.at(keyNode.offset);
        warnings.push({
          path: dotted,
          message: `duplicate key "${key}" at ${p.line}:${p.column} and ${q.line}:${q.column}; the last one is used`,
          ...at(keyNode),
        });
      }
      seen.set(key, keyNode);
      walk(prop.children?.[1], [...pathSegs, key]);
    }
  };
  walk(root, []);
  return { errors, warnings };
}

/**
 * Numbers JSON can write but a double cannot hold: `1e999` parses as Infinity (and would be stored as
 * null in the run's config.json), and an integer beyond 2^53 − 1 (`99999999999999999999`) silently loses
 * digits. Each is an error at its place, showing the text as written.
 */
function checkNumbers(root: Node | undefined, positions: TextPositions, text: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const walk = (node: Node | undefined, segs: string[]) => {
    if (!node) return;
    if (node.type === 'object') for (const prop of node.children ?? []) walk(prop.children?.[1], [...segs, String(prop.children?.[0]?.value)]);
    else if (node.type === 'array') node.children?.forEach((c, i) => walk(c, [...segs, String(i)]));
    else if (node.type === 'number') {
      const problem = numberProblem(node.value as number, text.slice(node.offset, node.offset + node.length));
      if (problem) problems.push({ path: segs.join('.'), message: problem, ...positions.at(node.offset), offset: node.offset, length: node.length });
    }
  };
  walk(root, []);
  return problems;
}

/** Keys of `trainer` that only the PyTorch trainer (kind "torchrun") uses, with their schema defaults. */
const TORCHRUN_ONLY_KEYS = ['nprocPerNode', 'python', 'module'] as const;
const TORCHRUN_DEFAULTS: Partial<Record<(typeof TORCHRUN_ONLY_KEYS)[number], unknown>> = { nprocPerNode: 1, module: 'retrieval_lens.train' };

/**
 * `trainer` keys that would be silently ignored: nprocPerNode / python / module given (in the file or
 * with --set) while kind is "node". An error at the key, so a run never starts on the wrong trainer.
 * A key holding its default changes nothing and is accepted: a run's config.json is the resolved config,
 * with every default written out, and must load again (evaluation, sweeps, comparison).
 */
function checkTrainerKeys(cfg: ExperimentConfig, root: Node | undefined, positions: TextPositions, overridden: Set<string>): ConfigProblem[] {
  if (cfg.trainer.kind !== 'node') return [];
  const problems: ConfigProblem[] = [];
  for (const key of TORCHRUN_ONLY_KEYS) {
    const valueNode = root ? findNodeAtLocation(root, ['trainer', key]) : undefined;
    const fromSet = overridden.has(`trainer.${key}`);
    if (!valueNode && !fromSet) continue;
    if (key in TORCHRUN_DEFAULTS && cfg.trainer[key] === TORCHRUN_DEFAULTS[key]) continue;
    const target =
      valueNode?.parent?.type === 'property' ? valueNode.parent.children?.[0] : (valueNode ?? (root ? findNodeAtLocation(root, ['trainer']) : undefined));
    const offset = target?.offset ?? 0;
    problems.push({
      path: `trainer.${key}`,
      message: `is used only with "kind": "torchrun" (kind is "node", the built-in trainer): set trainer.kind to "torchrun" or remove it${fromSet ? ' (value from --set)' : ''}`,
      ...positions.at(offset),
      offset,
      length: target?.length ?? 0,
    });
  }
  return problems;
}

/**
 * loss.trainable names only what the loss uses (learnedHyperProblem), each error at its entry; Adap-τ
 * (loss.temperatureRule "adap-tau") is a temperature rule, so a margin loss with it is an error at the key.
 */
function checkLearnedHyper(cfg: ExperimentConfig, root: Node | undefined, positions: TextPositions): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (cfg.loss.temperatureRule === 'adap-tau' && cfg.loss.type !== 'softmax') {
    problems.push(
      problemAt(
        root,
        positions,
        ['loss', 'temperatureRule'],
        '"adap-tau" sets the temperature of the softmax loss; loss.type is "margin" (use "batch-similarity" or loss.type "softmax")',
      ),
    );
  }
  (cfg.loss.trainable ?? []).forEach((name, i) => {
    const problem = learnedHyperProblem(cfg.loss, name);
    if (problem) problems.push(problemAt(root, positions, ['loss', 'trainable', String(i)], problem));
  });
  return problems;
}

/** A problem located at the key of `segments` (or its closest existing parent). */
function problemAt(root: Node | undefined, positions: TextPositions, segments: string[], message: string): ConfigProblem {
  let node: Node | undefined;
  for (let n = segments.length; n >= 0 && !node; n--) node = root ? findNodeAtLocation(root, segments.slice(0, n)) : undefined;
  const target = node?.parent?.type === 'property' ? node.parent.children?.[0] : node;
  const offset = target?.offset ?? 0;
  return { path: segments.join('.'), message, ...positions.at(offset), offset, length: target?.length ?? 0 };
}

/**
 * A ConfigError at a key of a loaded config, for problems found only when the data is read (e.g. a corpus too
 * small for data.hardNegatives): located in the config file when it can be read, else at its first line.
 */
export function configErrorAt(loaded: LoadedConfig, segments: string[], message: string): ConfigError {
  let text = '';
  try {
    text = readBoundedSync(loaded.path, 'experiment config').toString('utf8');
  } catch {
    // an inline config or a file gone since: line 1
  }
  if (text.charCodeAt(0) === BOM) text = text.slice(1);
  const root = text ? parseTree(text, [], { allowTrailingComma: true }) : undefined;
  return new ConfigError(loaded.path, [problemAt(root, new TextPositions(text), segments, message)]);
}

/** The schema node at an Ajv schemaPath ("#/properties/evaluation/properties/every/oneOf"). */
function schemaAt(schemaPath: string): unknown {
  let node: unknown = schema;
  for (const seg of schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean)) node = (node as Record<string, unknown> | undefined)?.[unescapePointer(seg)];
  return node;
}

/** One alternative of a oneOf in words: 'an integer ≥ 0', '"auto"', 'a string', 'an array'. */
function describeAlternative(alt: Record<string, unknown>): string {
  if ('const' in alt) return JSON.stringify(alt.const);
  const type = String(alt.type ?? 'value');
  const min = typeof alt.minimum === 'number' ? ` ≥ ${alt.minimum}` : '';
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}${min}`;
}

/**
 * The errors of a value that matches none of a oneOf's alternatives as one: Ajv reports each alternative's
 * failure and then the oneOf ("must be integer", "must be equal to constant", "must match exactly one
 * schema in oneOf"); the user needs one sentence naming what is allowed ("must be an integer ≥ 0 or \"auto\"").
 */
function mergeOneOfErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const under = (o: ErrorObject, e: ErrorObject) => o !== e && e.schemaPath.startsWith(`${o.schemaPath}/`);
  // An alternative whose type fits but whose bounds fail says best what is wrong ("must NOT have fewer than 1 items").
  const typeFits = (o: ErrorObject) => errors.some((e) => under(o, e) && e.keyword !== 'type' && e.keyword !== 'const');
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  return errors.flatMap((e) => {
    const parent = oneOfs.find((o) => under(o, e));
    if (parent) return typeFits(parent) && e.keyword !== 'type' && e.keyword !== 'const' ? [e] : [];
    if (e.keyword !== 'oneOf') return [e];
    if (typeFits(e)) return [];
    const alts = schemaAt(e.schemaPath);
    if (!Array.isArray(alts)) return [e];
    return [{ ...e, message: `must be ${alts.map((a) => describeAlternative(a as Record<string, unknown>)).join(' or ')}` }];
  });
}

/** Maps an Ajv error onto the closest node of the parse tree. */
function locateSchemaError(err: ErrorObject, root: Node | undefined, positions: TextPositions, overridden: Set<string>): ConfigProblem {
  const segments = err.instancePath.split('/').slice(1).map(unescapePointer);
  let message = err.message ?? 'invalid value';
  if (err.keyword === 'additionalProperties') {
    const extra = String((err.params as { additionalProperty: string }).additionalProperty);
    segments.push(extra);
    message = `unknown property "${extra}"`;
  } else if (err.keyword === 'enum') {
    message = `must be one of ${(err.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (err.keyword === 'required') {
    message = `missing required property "${(err.params as { missingProperty: string }).missingProperty}"`;
  }
  const dotted = segments.join('.');
  if (overridden.has(dotted)) message += ' (value from --set)';
  let node: Node | undefined;
  for (let n = segments.length; n >= 0 && !node; n--) {
    node = root ? findNodeAtLocation(root, segments.slice(0, n)) : undefined;
  }
  // For a property name error, point at the key rather than the value.
  const target = err.keyword === 'additionalProperties' && node?.parent?.type === 'property' ? node.parent.children?.[0] : node;
  const offset = target?.offset ?? 0;
  return { path: dotted, message, ...positions.at(offset), offset, length: target?.length ?? 0 };
}

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}|${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Resolves a path from the config against the config's folder. */
export function resolveConfigPath(loaded: LoadedConfig, p: string): string {
  return path.isAbsolute(p) ? p : path.resolve(loaded.baseDir, p);
}

/** A config with every default, for callers that build one in code (tests, benchmarks). */
export function defaultConfig(data: { train: string } & Partial<ExperimentConfig['data']>): ExperimentConfig {
  const cfg: Record<string, unknown> = { data: { ...data } };
  if (!validateSchema(cfg)) throw new Error(`defaultConfig: ${ajv.errorsText(validateSchema.errors)}`);
  return cfg as unknown as ExperimentConfig;
}
