"""Writing the recordings of tf-keras outputs, for the make_tf_keras_*.py scripts (the
reading side is tests/recorded.py): one .npz, each case's spec and arrays under
``<case>/``, and the versions that recorded them."""
import json
import os

import numpy as np


def save_cases(cases, filename, tf, keras):
    """Write ``cases`` (``{name: {"spec": dict, "arrays": dict}}``) next to this file."""
    out = {}
    for name, case in cases.items():
        out[f"{name}/__spec__"] = np.frombuffer(json.dumps(case["spec"]).encode(), np.uint8)
        for key, value in case["arrays"].items():
            out[f"{name}/{key}"] = value
    out["__versions__"] = np.frombuffer(json.dumps(
        {"tensorflow": tf.__version__, "tf_keras": keras.__version__}).encode(), np.uint8)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), filename)
    np.savez_compressed(path, **out)
    print(f"wrote {len(cases)} cases to {path}")
