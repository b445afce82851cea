import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { resumeCheckpointDir } from '../../src/trainer/launch/resumeJob';

// The one rule both "is it resumable" (Runs view, Resume Run…) and the step the plan prints use, as
// python/retrieval_lens/resume.py read_resume picks the checkpoint: last when it is a folder, else last.old.
test('the checkpoint a run resumes from: checkpoints/last, else last.old (killed mid-swap), else none', (t) => {
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'rlens-resume-dir-'));
  t.after(() => fs.rmSync(run, { recursive: true, force: true }));
  const ckpts = path.join(run, 'checkpoints');
  assert.equal(resumeCheckpointDir(run), null, 'no checkpoints folder');
  fs.mkdirSync(path.join(ckpts, 'last.old'), { recursive: true });
  assert.equal(resumeCheckpointDir(run), path.join(ckpts, 'last.old'), 'only last.old: the previous complete checkpoint');
  fs.mkdirSync(path.join(ckpts, 'last'));
  // last is read even when only last.old holds resume.json (the trainer would refuse it: so is the view).
  fs.writeFileSync(path.join(ckpts, 'last.old', 'resume.json'), '{}');
  assert.equal(resumeCheckpointDir(run), path.join(ckpts, 'last'));
  fs.rmSync(path.join(ckpts, 'last'), { recursive: true });
  fs.writeFileSync(path.join(ckpts, 'last'), 'not a folder');
  assert.equal(resumeCheckpointDir(run), path.join(ckpts, 'last.old'), 'a file named last is not a checkpoint');
});
