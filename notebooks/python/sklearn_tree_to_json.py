#!/usr/bin/env python3
"""Convert a fitted scikit-learn DecisionTreeClassifier into a decision-tree-reward tree file.

The tree file is the SDK's JSON format (format "decision-tree-reward/tree", version 1): attribute
names, class semantics, criterion and parameters, every node (feature, threshold, children,
weighted samples, class probabilities, impurity), importances and provenance. Loading it in the
SDK never executes code, unlike unpickling.

Usage (a pickled model, e.g. RLHFlow's decision_tree.pkl that you downloaded yourself):

    /usr/bin/python3 notebooks/python/sklearn_tree_to_json.py decision_tree.pkl --out trees/mine.json

WARNING: unpickling a file runs code from it. Only convert pickles you trust.

Only the standard library and scikit-learn are needed. As a library:

    from sklearn_tree_to_json import tree_to_json
    doc = tree_to_json(clf, name="mine")
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import sys
import tempfile

ATTRIBUTES = ["helpfulness", "correctness", "coherence", "complexity", "verbosity"]
TREE_FORMAT = "decision-tree-reward/tree"
TREE_FORMAT_VERSION = 1
TREE_SEMANTICS = (
    "features are attribute(a) - attribute(b); x <= threshold goes left; value = [P(response b preferred), "
    "P(response a preferred)]; probability = P(response a preferred); samples = weighted training pairs reaching "
    "the node, share = samples / root samples"
)
CONVERTER = "decision-tree-reward sklearn_tree_to_json.py"


class ConversionError(Exception):
    """The model cannot be represented as a preference tree; the message says why."""


def _feature_names(clf, feature_names):
    if feature_names is not None:
        names = list(feature_names)
    elif getattr(clf, "feature_names_in_", None) is not None:
        names = [str(n) for n in clf.feature_names_in_]
    else:
        names = list(ATTRIBUTES)  # RLHFlow's order, and this SDK's
    if len(names) != clf.n_features_in_:
        raise ConversionError(f"the tree has {clf.n_features_in_} features but {len(names)} names were given: {names}")
    unknown = [n for n in names if n not in ATTRIBUTES]
    if unknown:
        raise ConversionError(f"unknown feature names {unknown}: expected the attributes {ATTRIBUTES}")
    if len(set(names)) != len(names):
        raise ConversionError(f"a feature name is repeated: {names}")
    return names


def tree_to_json(clf, name, description="", feature_names=None, positive_class=None, provenance=None, ranges=None):
    """Return the tree-file document (a dict) for a fitted binary DecisionTreeClassifier.

    positive_class: the class label meaning "response a (the first response) is preferred";
    default: the larger of the two classes (1 in RLHFlow's trees, where class 1 = response 1 preferred).
    """
    try:
        from sklearn.tree import DecisionTreeClassifier
    except ImportError as e:  # pragma: no cover - exercised only without sklearn
        raise ConversionError("scikit-learn is required (Debian: apt-get install python3-sklearn)") from e
    if not isinstance(clf, DecisionTreeClassifier):
        raise ConversionError(f"expected a DecisionTreeClassifier, got {type(clf).__name__}")
    if not hasattr(clf, "tree_"):
        raise ConversionError("the classifier is not fitted")
    classes = list(clf.classes_)
    if len(classes) != 2:
        raise ConversionError(f"a preference tree has two classes, this one has {len(classes)}: {classes}")
    if clf.n_outputs_ != 1:
        raise ConversionError("multi-output trees are not supported")
    if positive_class is None:
        positive_class = max(classes)
    if positive_class not in classes:
        raise ConversionError(f"positive class {positive_class!r} is not one of the classes {classes}")
    pos = classes.index(positive_class)
    neg = 1 - pos
    names = _feature_names(clf, feature_names)
    criterion = {"entropy": "log_loss", "log_loss": "log_loss", "gini": "gini"}.get(clf.criterion)
    if criterion is None:
        raise ConversionError(f"criterion {clf.criterion!r} is not supported (log_loss/entropy or gini)")

    t = clf.tree_
    root_weight = float(t.weighted_n_node_samples[0])
    nodes = []
    for i in range(t.node_count):
        left, right = int(t.children_left[i]), int(t.children_right[i])
        leaf = left == -1
        counts = [float(v) for v in t.value[i][0]]
        total = sum(counts)
        # sklearn < 1.4 stores weighted class counts, later versions fractions: normalise either way.
        p_pos = counts[pos] / total if total > 0 else 0.5
        p_neg = counts[neg] / total if total > 0 else 0.5
        nodes.append({
            "id": i,
            "feature": None if leaf else names[int(t.feature[i])],
            "threshold": None if leaf else float(t.threshold[i]),
            "left": None if leaf else left,
            "right": None if leaf else right,
            "samples": float(t.weighted_n_node_samples[i]),
            "share": float(t.weighted_n_node_samples[i]) / root_weight,
            "value": [p_neg, p_pos],
            "impurity": float(t.impurity[i]),
        })
    importances = {a: 0.0 for a in ATTRIBUTES}
    for n, v in zip(names, clf.feature_importances_):
        importances[n] = float(v)
    params = clf.get_params()

    def _int_or_none(v):
        return int(v) if isinstance(v, int) and not isinstance(v, bool) else None

    doc = {
        "format": TREE_FORMAT,
        "version": TREE_FORMAT_VERSION,
        "name": name,
        "description": description,
        "attributes": list(ATTRIBUTES),
        "classes": ["b", "a"],
        "semantics": TREE_SEMANTICS,
        "criterion": criterion,
        "params": {
            "maxDepth": _int_or_none(params.get("max_depth")),
            "minSamplesSplit": _int_or_none(params.get("min_samples_split")),
            "minSamplesLeaf": _int_or_none(params.get("min_samples_leaf")),
            "minImpurityDecrease": float(params.get("min_impurity_decrease") or 0.0),
            "weighted": False,
        },
        "ranges": ranges,
        "importances": importances,
        "metrics": None,
        "nodes": nodes,
        "provenance": provenance or {
            "source": "converted from a scikit-learn DecisionTreeClassifier",
            "data": [],
            "command": None,
            "package": _package_id(),
        },
    }
    return doc


def _package_id():
    import sklearn
    return f"{CONVERTER} (scikit-learn {sklearn.__version__})"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json_atomic(path, doc):
    """Write JSON to a temp file beside `path`, then rename: never a partial file."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates 0600; a written artifact gets ordinary permissions (0666 less the umask).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _find_tree(obj):
    """RLHFlow pickles a bare DecisionTreeClassifier; accept a Pipeline or dict holding one too."""
    from sklearn.tree import DecisionTreeClassifier
    if isinstance(obj, DecisionTreeClassifier):
        return obj
    steps = getattr(obj, "steps", None)
    if steps:
        return _find_tree(steps[-1][1])
    if isinstance(obj, dict):
        for v in obj.values():
            try:
                return _find_tree(v)
            except ConversionError:
                pass
    raise ConversionError(f"no DecisionTreeClassifier found in the pickle (got {type(obj).__name__})")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="pickled (or joblib) DecisionTreeClassifier, e.g. decision_tree.pkl")
    ap.add_argument("--out", required=True, help="tree file to write, e.g. trees/rlhflow-llama-3.1-8b-exact.json")
    ap.add_argument("--name", help="tree name (default: the output file name)")
    ap.add_argument("--description", default="", help="one line on what the tree is")
    ap.add_argument("--feature-names", help="comma-separated feature names in the tree's column order "
                    "(default: feature_names_in_, else " + ",".join(ATTRIBUTES) + ")")
    ap.add_argument("--positive-class", help="class label meaning 'response a preferred' (default: the larger label)")
    args = ap.parse_args(argv)

    print("warning: unpickling runs code from the file; only convert pickles you trust", file=sys.stderr)
    try:
        with open(args.model, "rb") as f:
            try:
                obj = pickle.load(f)
            except Exception:
                f.seek(0)
                import joblib  # joblib dumps (sklearn's own format) need joblib
                obj = joblib.load(f)
        clf = _find_tree(obj)
        positive = args.positive_class
        if positive is not None:
            positive = type(clf.classes_[0].item() if hasattr(clf.classes_[0], "item") else clf.classes_[0])(positive)
        name = args.name or os.path.splitext(os.path.basename(args.out))[0]
        provenance = {
            "source": "converted from a scikit-learn DecisionTreeClassifier",
            "data": [{"path": args.model, "sha256": sha256_file(args.model), "role": "pickled model"}],
            "command": " ".join(["python3", "notebooks/python/sklearn_tree_to_json.py"] + (argv if argv is not None else sys.argv[1:])),
            "package": _package_id(),
        }
        feature_names = args.feature_names.split(",") if args.feature_names else None
        doc = tree_to_json(clf, name, args.description, feature_names, positive, provenance)
        write_json_atomic(args.out, doc)
    except (ConversionError, OSError, pickle.UnpicklingError) as e:
        print(f"sklearn_tree_to_json: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({len(doc['nodes'])} nodes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
