import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunWriter } from '../../src/core/runs/runWriter';
import { listRuns } from '../../src/core/runs/listRuns';
import { readRun } from '../../src/core/runs/readRun';
import { readRunUser, updateRunUser, parseTags, USER_FILE } from '../../src/core/runs/runUser';
import { runFilter } from '../../src/core/runs/runFilter';
import { commonNamePrefix, distinctRunLabels } from '../../src/core/runs/runLabels';
import { groupRuns } from '../../src/core/runs/runGroups';
import { archiveRun, deleteRun, restoreRun, ARCHIVE_DIR } from '../../src/core/runs/runArchive';

const REPO = path.resolve(__dirname, '../..');

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-runs-'));
}

/** A finished run under `root` started from `configPath` at `time`. */
async function run(root: string, name: string, configPath: string | null, time: string): Promise<string> {
  const w = await RunWriter.create(root, name, { name }, { configPath }, { now: () => new Date(time) });
  w.finish('completed');
  return w.dir;
}

test('user.json: rename, note and tags are stored atomically, validated, and a damaged file is reported and kept', async (t) => {
  const root = tmp();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const dir = await run(root, 'shop', null, '2026-12-06T10:00:00Z');
  assert.deepEqual(readRunUser(dir), { ok: true, user: { version: 1 } });
  updateRunUser(dir, { name: ' baseline ', note: 'lr 2e-3\nfirst try', tags: parseTags('good, lr-high  good') });
  assert.deepEqual(readRunUser(dir), { ok: true, user: { version: 1, name: 'baseline', note: 'lr 2e-3\nfirst try', tags: ['good', 'lr-high'] } });
  updateRunUser(dir, { name: '', tags: [] });
  assert.deepEqual(readRunUser(dir), { ok: true, user: { version: 1, note: 'lr 2e-3\nfirst try' } });
  assert.throws(() => updateRunUser(dir, { tags: ['has space'] }), /user\.json: tags\[0\]/);
  fs.writeFileSync(path.join(dir, USER_FILE), '{"version":1,"tags":"x"}');
  const bad = readRunUser(dir);
  assert.equal(bad.ok, false);
  assert.match((bad as { message: string }).message, /user\.json: tags/);
  assert.throws(() => updateRunUser(dir, { note: 'y' }), /was not changed/);
  assert.equal(fs.readFileSync(path.join(dir, USER_FILE), 'utf8'), '{"version":1,"tags":"x"}');
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.includes('.tmp')),
    [],
  );
});

test('runFilter keeps runs by tag, status, config and text (all words)', async (t) => {
  const root = tmp();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const a = readRun(await run(root, 'shop-adaptive', '/w/a.rlens.json', '2026-12-06T10:00:00Z'));
  const b = readRun(await run(root, 'shop-fixed', '/w/b.rlens.json', '2026-12-06T11:00:00Z'));
  const rows = [
    { run: a, user: { version: 1 as const, tags: ['keep'], note: 'the good one' }, config: 'a.rlens.json' },
    { run: b, user: null, config: 'b.rlens.json' },
  ];
  const names = (q: string) => rows.filter(runFilter(q)).map((r) => r.run.name);
  assert.deepEqual(names(''), ['shop-adaptive', 'shop-fixed']);
  assert.deepEqual(names('tag:keep'), ['shop-adaptive']);
  assert.deepEqual(names('config:b.rlens'), ['shop-fixed']);
  assert.deepEqual(names('status:completed fixed'), ['shop-fixed']);
  assert.deepEqual(names('GOOD'), ['shop-adaptive']);
  assert.deepEqual(names('status:running'), []);
});

test('distinctRunLabels: no two labels alike, the group name dropped, long names cut in the middle', () => {
  const sweep = [0.05, 0.1].flatMap((v) =>
    [42, 43].map((s) => ({ name: `debian-adaptive-softmax-temperature-${v}-s${s}`, id: `x-${v}-${s}`, startedAt: '2026-12-06T10:00:00Z' })),
  );
  const labels = distinctRunLabels(sweep);
  assert.equal(new Set(labels).size, 4);
  for (const l of labels) assert.ok(l.length <= 40, l);
  assert.deepEqual(distinctRunLabels(sweep, 'debian-adaptive-softmax'), [
    'temperature-0.05-s42',
    'temperature-0.05-s43',
    'temperature-0.1-s42',
    'temperature-0.1-s43',
  ]);
  assert.equal(commonNamePrefix(sweep.map((r) => r.name)), 'debian-adaptive-softmax-temperature');
  assert.equal(commonNamePrefix(['my-beir', 'my-beir']), undefined);
  assert.equal(commonNamePrefix(['shop']), undefined);
  const same = [
    { name: 'shop', id: '20261206-100000-shop', startedAt: '2026-12-06T10:00:00Z' },
    { name: 'shop', id: '20261206-110000-shop', startedAt: '2026-12-06T11:00:00Z' },
    { name: 'shop', id: '20261206-110000-shop-2', startedAt: '2026-12-06T11:00:00Z' },
    { name: 'shop', userName: 'baseline', id: 'y', startedAt: null },
  ];
  const l2 = distinctRunLabels(same);
  assert.equal(new Set(l2).size, 4);
  assert.equal(l2[3], 'baseline');
  assert.match(l2[2], /20261206-110000-shop-2$/);
});

test('groupRuns files runs under the config recorded in the run, not the shared runs folder, and sweep runs under their sweep', async (t) => {
  const ws = tmp();
  t.after(() => fs.rmSync(ws, { recursive: true, force: true }));
  const root = path.join(ws, 'runs');
  const cfgA = path.join(ws, 'a.rlens.json');
  const cfgB = path.join(ws, 'b.rlens.json');
  const a1 = await run(root, 'a', cfgA, '2026-12-06T10:00:00Z');
  const b1 = await run(root, 'b', cfgB, '2026-12-06T10:01:00Z');
  const s1 = await run(root, 'a-temperature-0.1-s42', cfgA, '2026-12-06T10:02:00Z');
  const moved = await run(root, 'b', '/elsewhere/old/b.rlens.json', '2026-12-06T10:03:00Z');
  const orphan = await run(root, 'c', '/elsewhere/c.rlens.json', '2026-12-06T10:04:00Z');
  const runs = listRuns(root);
  const sweep = { dir: path.join(ws, 'sweeps', 's'), name: 'a-temperature', kind: 'sweep' as const, configPath: cfgA, runDirs: [s1] };
  const groups = groupRuns(runs, [cfgA, cfgB], [sweep]);
  const dirs = (rs: { dir: string }[]) => rs.map((r) => r.dir).sort();
  assert.equal(groups.length, 3);
  assert.deepEqual(dirs(groups[0].runs), [a1]);
  assert.deepEqual(
    groups[0].sweeps.map((s) => dirs(s.runs)),
    [[s1]],
  );
  assert.deepEqual(dirs(groups[1].runs), [b1, moved].sort());
  assert.equal(groups[2].configPath, null);
  assert.deepEqual(dirs(groups[2].runs), [orphan]);
});

test('archive moves a run into .archive (out of the listing, nothing lost); delete removes it; neither touches a live or non-run folder', async (t) => {
  const root = tmp();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const a = await run(root, 'a', null, '2026-12-06T10:00:00Z');
  const b = await run(root, 'b', null, '2026-12-06T10:01:00Z');
  updateRunUser(a, { note: 'kept' });
  const target = archiveRun(a);
  assert.equal(path.dirname(target), path.join(root, ARCHIVE_DIR));
  assert.deepEqual(readRunUser(target), { ok: true, user: { version: 1, note: 'kept' } });
  assert.deepEqual(
    listRuns(root).map((r) => r.dir),
    [b],
  );
  deleteRun(b);
  assert.equal(fs.existsSync(b), false);
  const live = await RunWriter.create(root, 'live', {}, {});
  assert.throws(() => archiveRun(live.dir), /still training/);
  assert.throws(() => deleteRun(live.dir), /still training/);
  live.finish('stopped');
  const notRun = path.join(root, 'not-a-run');
  fs.mkdirSync(notRun);
  assert.throws(() => deleteRun(notRun), /not a run folder/);
  assert.ok(fs.existsSync(notRun));
});

test('retrieval-lens runs shows tags, display names and notes, and --filter keeps the matching runs', async (t) => {
  const root = tmp();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const a = await run(root, 'a', null, '2026-12-06T10:00:00Z');
  await run(root, 'b', null, '2026-12-06T10:01:00Z');
  updateRunUser(a, { name: 'baseline', note: 'first\nsecond', tags: ['keep', 'lr-high'] });
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli.ts'), 'runs', '--dir', root, ...args], { cwd: REPO, encoding: 'utf8' });
  const all = cli();
  assert.equal(all.status, 0, all.stderr);
  assert.match(all.stdout, /TAGS/);
  assert.match(all.stdout, /-a \(baseline\)\s.*keep,lr-high\s+[\d.]+ k?B\n/);
  assert.match(all.stdout, /-a: note: first \/ second/);
  const kept = cli('--filter', 'tag:keep');
  assert.equal(kept.status, 0);
  assert.doesNotMatch(kept.stdout, /-b\s/);
  assert.match(kept.stdout, /1 of 2 runs match "tag:keep"/);
});

test('restore moves an archived run back; refused for a run outside .archive and when its name is taken', async (t) => {
  const root = tmp();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const a = await run(root, 'a', null, '2026-12-06T10:00:00Z');
  assert.throws(() => restoreRun(a), /not an archived run/);
  const archived = archiveRun(a);
  assert.equal(restoreRun(archived), a);
  assert.deepEqual(
    listRuns(root).map((r) => r.dir),
    [a],
  );
  const again = archiveRun(a);
  fs.mkdirSync(a);
  assert.throws(() => restoreRun(again), new RegExp(`${a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} exists`));
  assert.ok(fs.existsSync(again), 'nothing moved');
});

test('retrieval-lens runs rename|note|tag|archive|restore|delete: the same user.json and archive as the Runs view, located errors, delete asks', async (t) => {
  const root = tmp();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const a = await run(root, 'a', null, '2026-12-06T10:00:00Z');
  const b = await run(root, 'b', null, '2026-12-06T10:01:00Z');
  const id = path.basename(a);
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli.ts'), 'runs', ...args, '--dir', root], { cwd: REPO, encoding: 'utf8' });
  const ok = (r: ReturnType<typeof cli>) => {
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const help = cli('rename', '--help');
  assert.equal(help.status, 0, help.stderr);
  for (const action of ['rename', 'note', 'tag', 'archive', 'restore', 'delete']) assert.match(help.stdout, new RegExp(`retrieval-lens runs ${action} <run>`));

  assert.match(ok(cli('rename', id, 'baseline')), /name "baseline"/);
  ok(cli('note', a, 'first try\nlr 2e-3')); // a path works as well as the folder name
  assert.match(ok(cli('tag', id, 'keep, lr-high')), /tags "keep, lr-high"/);
  assert.deepEqual(readRunUser(a), { ok: true, user: { version: 1, name: 'baseline', note: 'first try\nlr 2e-3', tags: ['keep', 'lr-high'] } });
  assert.match(ok(cli('rename', id, '')), /name removed/);

  const bad = cli('tag', id, 'ok, bad!tag:x "quoted"');
  assert.equal(bad.status, 0, 'tags are free text without spaces or commas');
  const missing = cli('rename', 'nope', 'x');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, new RegExp(`no run "nope": not a run folder, nor a run in ${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  fs.writeFileSync(path.join(b, USER_FILE), '{"version":1,"tags":"x"}');
  const damaged = cli('note', path.basename(b), 'hi');
  assert.equal(damaged.status, 2);
  assert.match(damaged.stderr, /user\.json: tags: .*it was not changed/);
  assert.equal(fs.readFileSync(path.join(b, USER_FILE), 'utf8'), '{"version":1,"tags":"x"}', 'a damaged user.json is left as it is');
  const usage = cli('tag', id);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /runs tag takes a run and one text/);
  assert.match(cli('frob', id).stderr, /unknown action "frob"/);

  assert.match(ok(cli('archive', id)), new RegExp(`archived to .*${ARCHIVE_DIR}`));
  assert.equal(fs.existsSync(a), false);
  assert.match(ok(cli('--archived')), new RegExp(id));
  assert.doesNotMatch(ok(cli()), new RegExp(id));
  assert.match(cli('restore', 'nope').stderr, /nor a run in .*\.archive/);
  assert.match(ok(cli('restore', id)), /restored to/);
  assert.deepEqual(readRunUser(a), { ok: true, user: { version: 1, note: 'first try\nlr 2e-3', tags: ['ok', 'bad!tag:x', '"quoted"'] } });

  const refused = cli('delete', id);
  assert.equal(refused.status, 2, 'not on a terminal: --yes needed');
  assert.match(refused.stderr, /add --yes to delete it/);
  assert.ok(fs.existsSync(a), 'nothing deleted without --yes');
  const live = await RunWriter.create(root, 'live', {}, {});
  t.after(() => live.finish('stopped'));
  for (const action of ['archive', 'delete']) {
    const r = cli(action, path.basename(live.dir), '--yes');
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`runs ${action}: cannot ${action} .*still training`));
  }
  assert.ok(fs.existsSync(live.dir));
  assert.match(ok(cli('delete', id, '--yes')), /deleted/);
  assert.equal(fs.existsSync(a), false);
});
