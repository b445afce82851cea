/**
 * Chart export (issue 19): the file name the save dialog suggests and the bytes written, from what the
 * dashboard webview posts; and the layout rule of labels on horizontal lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chartExportBytes, chartExportFileName } from '../../src/extension/dashboard/chartExportFile';
import { placeLabels } from '../../src/webview/shared/labelLayout';

test('export file name: safe characters only, the format’s extension', () => {
  assert.equal(chartExportFileName('adaptive softmax-loss', 'csv'), 'adaptive-softmax-loss.csv');
  assert.equal(chartExportFileName('../../etc/passwd', 'png'), 'etc-passwd.png');
  assert.equal(chartExportFileName('///', 'png'), 'chart.png');
});

test('export bytes: CSV as UTF-8; a PNG data URL decoded and checked, anything else refused with the field named', () => {
  assert.deepEqual(chartExportBytes('csv', 'step,δ\n1,2\n'), { ok: true, value: Buffer.from('step,δ\n1,2\n', 'utf8') });
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
  assert.deepEqual(chartExportBytes('png', `data:image/png;base64,${png.toString('base64')}`), { ok: true, value: png });
  const wrong = chartExportBytes('png', 'data:text/html;base64,PGgxPg==');
  assert.ok(!wrong.ok && /exportChart\.data: a PNG must be/.test(wrong.reason));
  const notPng = chartExportBytes('png', `data:image/png;base64,${Buffer.from('<svg/>').toString('base64')}`);
  assert.ok(!notPng.ok && /not a PNG image/.test(notPng.reason));
});

test('label layout: a free label stays; one that would overlap goes below its line, else stacks; all inside the area', () => {
  const area = { top: 0, bottom: 200 };
  // two labels on one row from both ends, long enough to meet in the middle
  const shifts = placeLabels(
    [
      { x: 0, y: 90, width: 120, height: 12, lineY: 100 },
      { x: 80, y: 90, width: 120, height: 12, lineY: 100 },
    ],
    area,
  );
  assert.deepEqual(shifts, [0, 12]);
  // apart: nothing moves
  assert.deepEqual(
    placeLabels(
      [
        { x: 0, y: 40, width: 50, height: 12, lineY: 50 },
        { x: 0, y: 140, width: 50, height: 12, lineY: 150 },
      ],
      area,
    ),
    [0, 0],
  );
  // three on one row at the bottom edge: below is outside, so the third stacks above
  const s3 = placeLabels(
    [
      { x: 0, y: 186, width: 100, height: 12, lineY: 196 },
      { x: 0, y: 186, width: 100, height: 12, lineY: 196 },
      { x: 0, y: 186, width: 100, height: 12, lineY: 196 },
    ],
    area,
  );
  const ys = s3.map((d) => 186 + d);
  for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) assert.ok(Math.abs(ys[i] - ys[j]) >= 12, JSON.stringify(ys));
  for (const y of ys) assert.ok(y >= 0 && y + 12 <= 200, JSON.stringify(ys));
});
