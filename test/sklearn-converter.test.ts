/** notebooks/python/sklearn_tree_to_json.py as a user runs it: a pickled tree in, a tree file out. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { PYTHON } from './support/python.js';
import { need, skipNote } from './support/needs.js';
import { tempDir } from './support/temp.js';

const converter = fileURLToPath(new URL('../notebooks/python/sklearn_tree_to_json.py', import.meta.url));

function python(code: string, cwd: string): void {
  const r = spawnSync(PYTHON, ['-c', code], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

const FIT = (labels: string) => `
import pickle, numpy as np
from sklearn.tree import DecisionTreeClassifier
rng = np.random.RandomState(0)
X = rng.randn(3000, 5).astype(np.float32).astype(np.float64)
y = (X @ np.array([1.5, 0.7, 0.2, 0.1, -0.3]) + 0.5 * rng.randn(3000) > 0).astype(int)
y = np.array(${labels})[y]
clf = DecisionTreeClassifier(max_depth=3, criterion="entropy", random_state=0).fit(X, y)
pickle.dump(clf, open("model.pkl", "wb"))
T = rng.randn(2000, 5)
np.save("test.npy", T)
np.save("proba.npy", clf.predict_proba(T))
`;

const sklearn = need('sklearn');

describe.skipIf(!sklearn.present)(`sklearn_tree_to_json.py (command line)${skipNote(sklearn)}`, () => {
  it('converts a pickled DecisionTreeClassifier; the SDK predicts exactly as scikit-learn', () => {
    const dir = tempDir('dtr-conv-');
    python(FIT('[0, 1]'), dir);
    const r = spawnSync(PYTHON, [converter, 'model.pkl', '--out', 'trees/converted.json', '--description', 'test'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/unpickling runs code/);
    expect(r.stdout).toMatch(/wrote trees\/converted\.json \(15 nodes\)/);
    const tree = PreferenceTree.load(join(dir, 'trees/converted.json'));
    expect(tree.criterion).toBe('log_loss'); // sklearn's "entropy" is the same criterion
    expect(tree.provenance.data[0]).toMatchObject({ path: 'model.pkl', role: 'pickled model' });
    expect(tree.provenance.command).toMatch(/sklearn_tree_to_json\.py model\.pkl --out trees\/converted\.json/);
    // Compare predictions on the test points written by Python.
    const check = spawnSync(
      PYTHON,
      ['-c', 'import numpy as np, json; print(json.dumps({"t": np.load("test.npy").tolist(), "p": np.load("proba.npy")[:, 1].tolist()}))'],
      { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    const { t, p } = JSON.parse(check.stdout) as { t: number[][]; p: number[] };
    // scikit-learn compares float32-cast inputs; these test points are float64, so compare on the float32 grid.
    t.forEach((row, i) => expect(tree.predictProba(row.map((v) => Math.fround(v)))).toBeCloseTo(p[i]!, 12));
  });

  it('maps string labels with --positive-class and refuses what is not a binary tree, writing nothing', () => {
    const dir = tempDir('dtr-conv-');
    python(FIT('["second", "first"]'), dir);
    const ok = spawnSync(PYTHON, [converter, 'model.pkl', '--out', 'a.json', '--positive-class', 'first'], { cwd: dir, encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(PreferenceTree.load(join(dir, 'a.json')).predictProba([3, 3, 0, 0, 0])).toBeGreaterThan(0.9);
    const bad = spawnSync(
      PYTHON,
      [converter, 'model.pkl', '--out', 'b.json', '--feature-names', 'helpfulness,length,coherence,complexity,verbosity'],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/unknown feature names \['length'\]/);
    python('import pickle; pickle.dump({"not": "a tree"}, open("x.pkl", "wb"))', dir);
    const notTree = spawnSync(PYTHON, [converter, 'x.pkl', '--out', 'c.json'], { cwd: dir, encoding: 'utf8' });
    expect(notTree.status).toBe(1);
    expect(notTree.stderr).toMatch(/no DecisionTreeClassifier found in the pickle/);
    expect(existsSync(join(dir, 'b.json')) || existsSync(join(dir, 'c.json'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
