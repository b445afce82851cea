import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadExamples } from '../../src/core/data/load';
import { badLineProblems, MAX_BAD_LINE_DIAGNOSTICS } from '../../src/extension/dataLens/badLineMessages';
import type { CollapseState } from '../../src/core/metrics/types';
import { VerdictNotifier, type ToastWindow } from '../../src/extension/verdict/alertToasts';
import { alertLinks, alertMessage, commandLink, VerdictAlertPolicy, type VerdictAlert } from '../../src/extension/verdict/verdictAlerts';
import { codeRemedyText } from '../../src/extension/verdict/codeRemedies';

/** A window that records what the notifier does with its notifications (what VS Code would show). */
class RecordingWindow implements ToastWindow {
  readonly toasts: { messages: string[]; closed: boolean; dismiss: () => void }[] = [];
  readonly notices: string[] = [];
  open(message: string, onDismiss: () => void) {
    const t = { messages: [message], closed: false, dismiss: () => {} };
    t.dismiss = () => {
      t.closed = true;
      onDismiss();
    };
    this.toasts.push(t);
    return { update: (m: string) => t.messages.push(m), close: () => (t.closed = true) };
  }
  notice(message: string) {
    this.notices.push(message);
  }
  /** The notifications still shown, as their current message. */
  get visible(): string[] {
    return this.toasts.filter((t) => !t.closed).map((t) => t.messages[t.messages.length - 1]);
  }
}

test('collapse alerts: one per run and level, a recovered notice, nothing for initialising', () => {
  const p = new VerdictAlertPolicy();
  const seq = [
    'initialising',
    'initialising',
    'healthy',
    'warning',
    'warning',
    'healthy',
    'warning',
    'collapsing',
    'collapsed',
    'collapsed',
    'collapsing',
    'collapsed',
    'healthy',
    'healthy',
    'collapsed',
  ] as const;
  assert.deepEqual(
    seq.map((s) => p.observe('run-a', s)?.kind ?? null),
    [null, null, null, 'warning', null, 'recovered', null, 'collapsing', 'collapsed', null, null, null, 'recovered', null, null],
  );
  // Runs are independent; a run that starts collapsed alerts at once; initialising → never separated alerts once.
  assert.deepEqual(p.observe('run-b', 'collapsed'), { kind: 'collapsed' });
  assert.deepEqual(
    ['initialising', 'never-separated', 'initialising', 'never-separated'].map((s) => p.observe('run-c', s as CollapseState)?.kind ?? null),
    [null, 'never-separated', null, null],
  );
  p.forget('run-c');
  assert.deepEqual(p.observe('run-c', 'warning'), { kind: 'warning' }, 'a forgotten run starts over');
});

test('collapse notifications: one live notification per run, rewritten in place, closed on recovery, end or dismissal', () => {
  const w = new RecordingWindow();
  const n = new VerdictNotifier(w);
  let step = 0;
  const text = (run: string) => (a: VerdictAlert) => `${run} ${a.kind} @${step}`;
  const feed = (run: string, states: CollapseState[]) => {
    for (const s of states) {
      step += 10;
      n.observe(run, s, text(run));
    }
  };
  feed('a', ['initialising', 'initialising', 'healthy', 'healthy']);
  assert.deepEqual(w.toasts.length + w.notices.length, 0, 'initialising and healthy raise nothing');
  feed('a', ['warning', 'warning', 'collapsing', 'collapsed', 'collapsed', 'collapsing']);
  assert.equal(w.toasts.length, 1, 'a newer state replaces the older one: never a second notification for the run');
  assert.deepEqual(w.toasts[0].messages, ['a warning @50', 'a collapsing @70', 'a collapsed @80', 'a collapsing @100']);
  assert.equal(n.shown('a'), 'collapsing', 'the notification shows the current state, also a level seen before');
  feed('b', ['initialising', 'never-separated']);
  assert.deepEqual(w.visible, ['a collapsing @100', 'b never-separated @120'], 'runs are independent');
  feed('a', ['healthy']);
  assert.deepEqual(w.visible, ['b never-separated @120'], 'recovery closes the run’s notification');
  assert.deepEqual(w.notices, ['a recovered @130']);
  feed('a', ['collapsed']);
  assert.equal(w.toasts.length, 2, 'after a recovery, a level already alerted does not alert again');
  feed('a', ['warning', 'healthy']);
  assert.deepEqual(w.notices, ['a recovered @130'], 'no second recovered notice without a new alert');
  w.toasts[1].dismiss();
  assert.equal(n.shown('b'), undefined, 'dismissed by the user');
  feed('b', ['collapsing']);
  assert.deepEqual(w.visible, ['b collapsing @170'], 'a dismissed run opens a new notification for a new level');
  n.end('b');
  assert.deepEqual(w.visible, [], 'the run ended: its notification is closed');
  feed('b', ['warning']);
  assert.deepEqual(w.visible, ['b warning @180'], 'an ended run starts over');
  n.closeAll();
  assert.deepEqual(w.visible, []);
});

test('notification action links: the run’s config and folder as command arguments, any path', () => {
  const configPath = '/home/me/exp (copy)/[shop] run.rlens.json';
  const link = commandLink('Enable stop-gradient and symmetric loss', 'retrievalLens.enableCollapseFix', [configPath]);
  // VS Code's notification link syntax: [label](target) with the target up to the first ')' or space.
  const m = /^\[([^\]]+)\]\((command:[^)\s]+)\)$/.exec(link);
  assert.ok(m, link);
  assert.equal(m[1], 'Enable stop-gradient and symmetric loss');
  const target = new URL(m[2]);
  assert.equal(target.pathname, 'retrievalLens.enableCollapseFix');
  assert.deepEqual(JSON.parse(decodeURIComponent(target.search.slice(1))), [configPath]);
  const run: Parameters<typeof alertLinks>[1] = {
    configPath,
    runDir: '/runs/r1',
    firstRemedy: 'Enable stop-gradient and symmetric loss',
    enableFixLabel: 'Enable stop-gradient and symmetric loss',
  };
  const labels = (a: VerdictAlert, r = run) => [...alertLinks(a, r).matchAll(/\[([^\]]+)\]/g)].map((x) => x[1]);
  assert.deepEqual(labels({ kind: 'collapsed' }), ['Enable stop-gradient and symmetric loss', 'Show Dashboard']);
  assert.deepEqual(labels({ kind: 'collapsing' }, { ...run, firstRemedy: 'Raise symmetric weight to 0.1' }), ['Choose a remedy…', 'Show Dashboard']);
  assert.deepEqual(labels({ kind: 'never-separated' }, { ...run, firstRemedy: null }), ['Show Dashboard']);
  assert.deepEqual(labels({ kind: 'warning' }), ['Show Dashboard'], 'a warning offers no config edit');
  assert.deepEqual(labels({ kind: 'collapsed' }, { ...run, configPath: null }), ['Show Dashboard'], 'no config edit for a run that names no config');
});

test('a collapsing run without a config file (retrieval_lens.Lens in your own loop): the alert says what to change in code', () => {
  // config.json as retrieval_lens.Lens writes it (its `loss` section is the loss module's settings; no learning rate).
  const lensConfig = (loss: Record<string, unknown>, training: Record<string, unknown> = { logEvery: 1 }) =>
    JSON.stringify({ name: 'my-loop', data: { train: '(none)' }, loss: { type: 'margin', adaptive: true, alpha: 0.5, ...loss }, training });
  assert.equal(
    codeRemedyText(lensConfig({ stopGradient: false, symmetric: false })),
    'No config file names this run: change it in your training code: pass stop_gradient=True, symmetric=True to the loss module ' +
      '(the stop-gradient removes the reward for pulling items together; the symmetric term pushes items apart).',
  );
  assert.equal(
    codeRemedyText(lensConfig({ stopGradient: true, symmetric: true, symmetricWeight: 0.05 })),
    "No config file names this run: change it in your training code, one of: pass symmetric_weight=0.1 to the loss module; halve the optimizer's learning rate; pass alpha=0.25 to the loss module.",
    'a run without a learning rate in its config gets no made-up value',
  );
  assert.match(
    codeRemedyText(lensConfig({ stopGradient: true, symmetric: true, symmetricWeight: 1 }, { learningRate: 0.002 }))!,
    /one of: halve the optimizer's learning rate \(lr=0\.001\); pass alpha=0\.25 to the loss module\.$/,
  );
  assert.equal(codeRemedyText(null), null, 'an unreadable config.json: no advice rather than a wrong one');
});

test('alert texts name the run, the step, R and the reason', () => {
  const run = { name: 'shop-adaptive-softmax', step: 40, reason: 'item cosine 0.99 > 0.90 and R 0.0063 < 1 since step 10', ratio: 'R 0.01' };
  assert.equal(
    alertMessage({ kind: 'collapsed' }, run),
    'Retrieval Lens · run shop-adaptive-softmax: training has collapsed at step 40 (R 0.01; item cosine 0.99 > 0.90 and R 0.0063 < 1 since step 10). Items are becoming indistinguishable.',
  );
  assert.match(alertMessage({ kind: 'collapsing' }, run), /^Retrieval Lens · run shop-adaptive-softmax: training is collapsing at step 40 \(R 0\.01; /);
  assert.equal(
    alertMessage({ kind: 'recovered' }, { ...run, step: 90, ratio: 'R 3.10' }),
    'Retrieval Lens · run shop-adaptive-softmax: recovered at step 90: the collapse verdict is healthy again (R 3.10).',
  );
});

test('bad data lines become per-file problems: the first 100 in line order, each message with the total', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-bad-'));
  try {
    const file = path.join(dir, 'pairs.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      if (i % 20 === 7) lines.push(i % 40 === 7 ? '{"query": "q"}' : '{broken');
      else lines.push(JSON.stringify({ query: `q${i}`, positive: `item ${i}` }));
    }
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const { report } = await loadExamples({ path: file, maxBadLineShare: 1 });
    assert.equal(report.badCount, 150);
    const byFile = badLineProblems(report.badLines, report.badCount);
    assert.deepEqual([...byFile.keys()], [file]);
    const problems = byFile.get(file)!;
    assert.equal(problems.length, MAX_BAD_LINE_DIAGNOSTICS);
    assert.deepEqual(
      problems.slice(0, 3).map((p) => p.line),
      [7, 27, 47],
      '0-based lines of the bad 1-based lines 8, 28, 48',
    );
    assert.ok(problems.every((p, i) => i === 0 || p.line > problems[i - 1].line));
    assert.ok(
      problems.every((p) => p.message.includes('150 bad lines in this load (first 100 listed)')),
      problems[0].message,
    );
    assert.match(problems[0].message, /positive/);
    assert.notEqual(problems[0].message, problems[1].message, 'each line says what is wrong with it');
    const one = badLineProblems(report.badLines.slice(0, 1), 1);
    assert.match(one.get(file)![0].message, /— 1 bad line in this load$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
