"""Tree peers of the CART benchmark, each run in a fresh process as a user's script would be.

    tree_peer.py sklearn  X.bin Y.bin RUNS [CRITERION DEPTH]   fits, first one timed apart
    tree_peer.py lightgbm X.bin Y.bin RUNS                     one depth-3 LightGBM tree per fit
    tree_peer.py bootstrap X.bin Y.bin REFITS                  scikit-learn on REFITS bootstrap resamples

X.bin: float64 rows of 5 attribute deltas; Y.bin: uint8 labels. Prints one JSON document with
the import time (numpy + the library), every fit's milliseconds and what the trees look like.

LightGBM is set to mirror DecisionTreeClassifier's defaults as far as it can: one tree
(n_estimators=1, learning_rate=1), max_depth=3 and num_leaves=8 (a full depth-3 tree), leaves of
one row allowed (min_child_samples=1, min_child_weight=0), no minimum gain, no L1/L2 penalty, no
row or column sampling. What still differs, by design of LightGBM: features are binned into at
most max_bin=255 histogram bins (thresholds are bin edges, not midpoints between values), the
split gain is the second-order (gradient/hessian) approximation of the logistic loss rather than
the entropy decrease, the tree grows leaf-wise, and it runs on all cores (OpenMP).
"""
import time

START = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402


def load(xp, yp):
    X = np.fromfile(xp, dtype=np.float64).reshape(-1, 5)
    y = np.fromfile(yp, dtype=np.uint8)
    return X, y


def main():
    mode, xp, yp, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    out = {}
    if mode == "sklearn" or mode == "bootstrap":
        import sklearn
        from sklearn.tree import DecisionTreeClassifier

        out["version"] = sklearn.__version__
    else:
        import lightgbm as lgb

        out["version"] = lgb.__version__
    out["importSeconds"] = time.perf_counter() - START
    X, y = load(xp, yp)
    times = []
    if mode == "sklearn":
        crit = sys.argv[5] if len(sys.argv) > 5 else "log_loss"
        depth = int(sys.argv[6]) if len(sys.argv) > 6 else 3
        for _ in range(runs):
            c = time.process_time()
            t = time.perf_counter()
            clf = DecisionTreeClassifier(criterion=crit, max_depth=depth, random_state=0).fit(X, y)
            times.append((time.perf_counter() - t) * 1000)
            if len(times) == 1:
                out["firstCpu"] = (time.process_time() - c) * 1000
                out["features"] = clf.tree_.feature.tolist()
                out["thresholds"] = clf.tree_.threshold.tolist()
    elif mode == "lightgbm":
        params = dict(
            objective="binary", n_estimators=1, learning_rate=1.0, num_leaves=8, max_depth=3,
            min_child_samples=1, min_child_weight=0.0, min_split_gain=0.0, reg_alpha=0.0, reg_lambda=0.0,
            subsample=1.0, subsample_freq=0, colsample_bytree=1.0, max_bin=255, random_state=0, verbose=-1,
        )
        for _ in range(runs):
            t = time.perf_counter()
            model = lgb.LGBMClassifier(**params).fit(X, y)
            times.append((time.perf_counter() - t) * 1000)
            if len(times) == 1:
                tree = model.booster_.dump_model()["tree_info"][0]["tree_structure"]
                feats, thr = [], []

                def walk(node):  # pre-order, leaves as -2, as scikit-learn's tree_.feature
                    if "split_feature" in node:
                        feats.append(node["split_feature"])
                        thr.append(node["threshold"])
                        walk(node["left_child"])
                        walk(node["right_child"])
                    else:
                        feats.append(-2)
                        thr.append(-2.0)

                walk(tree)
                out["features"] = feats
                out["thresholds"] = thr
                out["threads"] = model.booster_.params.get("num_threads", 0) or "all cores (OpenMP default)"
    elif mode == "bootstrap":
        n = len(y)
        rng = np.random.default_rng(0)
        imps = []
        t = time.perf_counter()
        for _ in range(runs):
            idx = rng.integers(0, n, n)
            clf = DecisionTreeClassifier(criterion="log_loss", max_depth=3, random_state=0).fit(X[idx], y[idx])
            imps.append(clf.feature_importances_)
        times.append((time.perf_counter() - t) * 1000)
        out["mean"] = np.mean(imps, axis=0).tolist()
    out["times"] = times
    print(json.dumps(out))


if __name__ == "__main__":
    main()
