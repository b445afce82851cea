import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadExamples } from '../../src/core/data/load';
import { badLineProblems, MAX_BAD_LINE_DIAGNOSTICS } from '../../src/extension/dataLens/badLineMessages';
import type { CollapseState } from '../../src/core/metrics/types';
import { VerdictNotifier, type AlertSeverity, type ToastWindow } from '../../src/extension/verdict/alertToasts';
import {
  alertActions,
  alertMessage,
  APPLY_FIX_LABEL,
  buttonsFitNotification,
  CHOOSE_REMEDY_LABEL,
  STOP_RUN_LABEL,
  VerdictAlertPolicy,
  type VerdictAlert,
} from '../../src/extension/verdict/verdictAlerts';
import { ENABLE_FIX_LABEL, remedySettingsChangedSince } from '../../src/extension/verdict/collapseFix';
import { codeRemedyText } from '../../src/extension/verdict/codeRemedies';

/** A window that records the notifications the notifier shows (what VS Code would show); `press` answers the latest. */
class RecordingWindow implements ToastWindow {
  readonly alerts: { message: string; severity: AlertSeverity; buttons: readonly string[]; press: (label: string | undefined) => void }[] = [];
  readonly notices: string[] = [];
  alert(message: string, severity: AlertSeverity, buttons: readonly string[]) {
    return new Promise<string | undefined>((resolve) => this.alerts.push({ message, severity, buttons, press: resolve }));
  }
  notice(message: string) {
    this.notices.push(message);
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

test('collapse notifications: one per level a run enters, warning or error icon, buttons fix · Stop Run · Show Dashboard', async () => {
  const w = new RecordingWindow();
  const n = new VerdictNotifier(w);
  const acted: string[] = [];
  let step = 0;
  let firstRemedy: string | null = ENABLE_FIX_LABEL;
  let stoppable = true;
  const feed = (run: string, states: CollapseState[]) => {
    for (const s of states) {
      step += 10;
      const at = step;
      n.observe(
        run,
        s,
        () => ({ text: (a: VerdictAlert) => `${run} ${a.kind} @${at}`, firstRemedy, stoppable }),
        (a) => acted.push(`${run}:${a.kind}`),
      );
    }
  };
  feed('a', ['initialising', 'initialising', 'healthy', 'healthy']);
  assert.equal(w.alerts.length + w.notices.length, 0, 'initialising and healthy raise nothing');
  feed('a', ['warning', 'warning', 'collapsing', 'collapsed', 'collapsed', 'collapsing']);
  assert.deepEqual(
    w.alerts.map((t) => [t.message, t.severity]),
    [
      ['a warning @50', 'warning'],
      ['a collapsing @70 Apply Fix: enable stop-gradient and symmetric loss in its config.', 'warning'],
      ['a collapsed @80 Apply Fix: enable stop-gradient and symmetric loss in its config.', 'error'],
    ],
    'one notification per level entered; "collapsed" with the error icon, the others with the warning icon',
  );
  assert.deepEqual(w.alerts[0].buttons, [STOP_RUN_LABEL, 'Show Dashboard'], 'a warning offers no config edit');
  assert.deepEqual(w.alerts[2].buttons, [APPLY_FIX_LABEL, STOP_RUN_LABEL, 'Show Dashboard'], 'Stop Run beside the fix');
  assert.match(w.alerts[2].message, /Apply Fix: enable stop-gradient and symmetric loss in its config\.$/, 'the message names the fix');
  w.alerts[2].press(STOP_RUN_LABEL);
  w.alerts[1].press(APPLY_FIX_LABEL);
  w.alerts[0].press(undefined);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(acted, ['a:stop', 'a:fix'], 'the pressed button acts on its run; a dismissal does nothing');
  feed('a', ['healthy']);
  assert.deepEqual(w.notices, ['a recovered @110']);
  firstRemedy = 'Raise symmetric weight to 0.1';
  feed('b', ['initialising', 'never-separated']);
  assert.deepEqual(w.alerts[3].buttons, [CHOOSE_REMEDY_LABEL, STOP_RUN_LABEL, 'Show Dashboard'], 'once sg and symmetric are on: the other remedies');
  firstRemedy = null;
  feed('b', ['collapsing']);
  assert.deepEqual(w.alerts[4].buttons, [STOP_RUN_LABEL, 'Show Dashboard'], 'no remedy changes the config: no fix button');
  feed('b', ['never-separated', 'collapsing']);
  assert.equal(w.alerts.length, 5, 'a level already alerted does not alert again');
  n.end('b');
  feed('b', ['warning']);
  assert.equal(w.alerts.length, 6, 'an ended run starts over');
  stoppable = false;
  feed('c', ['collapsed']);
  assert.deepEqual(w.alerts[6].buttons, ['Show Dashboard'], 'a run another process writes (no config, not ours to stop): only its dashboard');
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

test('a fixed config: the remedy settings changed since the run (its config.json) clear the collapse squiggle', () => {
  const trained = { loss: { stopGradient: false, symmetric: false, symmetricWeight: 0.05, alpha: 0.5 }, training: { learningRate: 0.002 } };
  const asTrained = '{ "loss": { "type": "margin", "stopGradient": false, "symmetric": false }, "training": { "learningRate": 0.002 } }';
  assert.deepEqual(remedySettingsChangedSince(asTrained, trained), [], 'the config as the run trained it: the verdict stands');
  assert.deepEqual(remedySettingsChangedSince('{ "loss": { "stopGradient": true, "symmetric": true }, "training": { "learningRate": 0.002 } }', trained), [
    'loss.stopGradient',
    'loss.symmetric',
  ]);
  assert.deepEqual(remedySettingsChangedSince('{ "loss": { "stopGradient": false, "symmetric": false }, "training": { "learningRate": 0.001 } }', trained), [
    'training.learningRate',
  ]);
  assert.deepEqual(
    remedySettingsChangedSince('{ "loss": { "stopGradient": false } }', { loss: { stopGradient: false, symmetric: true } }),
    [],
    'absent keys count as their defaults on both sides',
  );
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

test('alert buttons fit a VS Code notification: none is cut to "…" (the rule, from VS Code 1.100’s notification CSS)', () => {
  // what code-server showed before: "Stop …" beside the fix's full label
  assert.equal(buttonsFitNotification([ENABLE_FIX_LABEL, STOP_RUN_LABEL, 'Show Dashboard']), false, 'the old labels did not fit');
  for (const kind of ['warning', 'never-separated', 'collapsing', 'collapsed'] as const)
    for (const remedy of [ENABLE_FIX_LABEL, 'Raise symmetric weight to 0.1', null]) {
      const labels = alertActions({ kind }, remedy).map((a) => a.label);
      assert.ok(buttonsFitNotification(labels), `${kind} / ${remedy}: ${labels.join(' · ')} fit`);
    }
  assert.ok(buttonsFitNotification([STOP_RUN_LABEL]), 'the fix confirmation’s Stop Run');
});
