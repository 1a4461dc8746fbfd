"""numpy peer of `dtr fit-head`: the same work as the command, timed as a whole process.

    ridge_peer.py EMBEDDINGS.safetensors --lambda X             one lambda, no cross-validation
    ridge_peer.py EMBEDDINGS.safetensors --folds-file FOLDS.bin  k-fold CV over the default grid

Reads `embeddings` [n, H] (F32/F64) and `labels` [n, 5] from the safetensors file, converts to
float64, centres, and fits scikit-learn's Ridge(alpha=lambda) per attribute (intercept not
penalised). With --folds-file (int32, the fold of every row, as the command assigns them for
its seed), it cross-validates over the command's default grid (the mean per-feature sum of
squares about the mean times 1e-5 ... 10), picks the held-out-MSE argmin per attribute, then
fits on all rows.

How, as a numpy user would do it well (the same algebra the command uses): one pass of Gram
products per fold (`Z_f.T @ Z_f`, BLAS syrk) whose sum is the full Gram; a training set's
normal equations by downdating (G - G_f, minus n_S d dᵀ for its own mean); one LAPACK Cholesky
(scipy's cho_factor/cho_solve, or numpy's cholesky when scipy is missing) per fold and lambda.
A symmetric eigendecomposition per fold (numpy.linalg.eigh) would serve every lambda, but at
H = 4096 it costs about 19 Choleskys on this machine (measured), so 7 lambdas are cheaper by
Cholesky. Ratings are complete in the benchmark's file (no NaN handling here).

Prints one JSON document: wall seconds from the start of the process (module imports included,
as the command's time includes Node's), stage seconds, the lambdas, CV MSE, weights and biases.
"""
import time

START = time.perf_counter()

import json  # noqa: E402
import struct  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

try:
    from scipy.linalg import cho_factor, cho_solve  # noqa: E402

    def solve_spd(a, b):
        return cho_solve(cho_factor(a, lower=False, overwrite_a=True, check_finite=False), b, check_finite=False)

    SOLVER = "scipy cho_factor"
except ImportError:  # numpy only: Cholesky, then two triangular solves by numpy's general solver

    def solve_spd(a, b):
        low = np.linalg.cholesky(a)
        return np.linalg.solve(low.T, np.linalg.solve(low, b))

    SOLVER = "numpy cholesky"

DTYPES = {"F32": np.float32, "F64": np.float64}


def read(path):
    with open(path, "rb") as f:
        (hlen,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(hlen))
        base = 8 + hlen
        out = {}
        for name in ("embeddings", "labels"):
            e = header[name]
            begin, end = e["data_offsets"]
            f.seek(base + begin)
            out[name] = np.fromfile(f, dtype=DTYPES[e["dtype"]], count=(end - begin) // np.dtype(DTYPES[e["dtype"]]).itemsize).reshape(e["shape"])
    return out["embeddings"], out["labels"]


def grid_for(scale):
    return [float("%.6g" % (scale * 10.0**e)) for e in range(-5, 2)]


def main():
    path = sys.argv[1]
    args = sys.argv[2:]
    lam = float(args[args.index("--lambda") + 1]) if "--lambda" in args else None
    folds_file = args[args.index("--folds-file") + 1] if "--folds-file" in args else None
    t = {}
    t0 = time.perf_counter()
    x32, labels = read(path)
    X = x32.astype(np.float64)
    del x32
    Y = labels.astype(np.float64)
    n, h = X.shape
    c = X.mean(axis=0)
    X -= c
    ym = Y.mean(axis=0)
    Yc = Y - ym
    t["read"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if folds_file is None:
        G = X.T @ X
        R = X.T @ Yc
        k = 0
    else:
        fold = np.fromfile(folds_file, dtype=np.int32)
        k = int(fold.max()) + 1
        parts = []
        for f in range(k):
            Z = X[fold == f]
            parts.append({"Z": Z, "G": Z.T @ Z, "R": Z.T @ Yc[fold == f], "s": Z.sum(axis=0), "n": Z.shape[0], "y": Yc[fold == f]})
        G = sum(p["G"] for p in parts)
        R = sum(p["R"] for p in parts)
        s = sum(p["s"] for p in parts)
    t["gram"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if folds_file is None:
        grid = [lam]
        pick = [0] * 5
        cv_mse = None
    else:
        scale = float(np.trace(G)) / h
        grid = grid_for(scale)
        sse = np.zeros((len(grid), 5))
        for f, p in enumerate(parts):
            n_s = n - p["n"]
            d = (s - p["s"]) / n_s
            GS = G - p["G"]
            GS -= n_s * np.outer(d, d)
            y_s = -p["y"].sum(axis=0) / n_s  # the training rows' mean of the centred ratings
            RS = (R - p["R"]) - np.outer(s - p["s"], y_s)
            Zd = p["Z"] - d
            for g, l in enumerate(grid):
                A = GS.copy()
                A[np.diag_indices_from(A)] += l
                W = solve_spd(A, RS)
                sse[g] += (((Zd @ W) + y_s - p["y"]) ** 2).sum(axis=0)
        cv_mse = sse / n
        pick = [int(i) for i in np.argmin(cv_mse, axis=0)]
    t["cv"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    weight = np.zeros((5, h))
    for g in sorted(set(pick)):
        A = G.copy()
        A[np.diag_indices_from(A)] += grid[g]
        W = solve_spd(A, R)
        for a in range(5):
            if pick[a] == g:
                weight[a] = W[:, a]
    bias = ym - (c @ weight.T)
    t["fit"] = time.perf_counter() - t0
    print(json.dumps({
        "seconds": time.perf_counter() - START,
        "stages": t,
        "solver": SOLVER,
        "folds": k,
        "grid": grid,
        "lambda": [grid[g] for g in pick],
        "cvMse": cv_mse.T.tolist() if cv_mse is not None else None,
        "weight": weight.ravel().tolist(),
        "bias": bias.tolist(),
    }))


if __name__ == "__main__":
    main()
