"""Record tf-keras 2.x configs for tests/test_config_parity.py (run where tf_keras is).

    python tests/data/make_tf_keras_configs.py   # writes tests/data/tf_keras_configs.json

For every case of ``config_cases.py``: ``keras.layers.serialize(layer)`` (module,
class_name, config, registered_name, build_config), as JSON.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tf_keras as keras  # noqa: E402
from tf_keras.src.layers.rnn.cell_wrappers import ResidualWrapper  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from config_cases import CASES, make  # noqa: E402

NAMESPACE = {"L": keras.layers, "R": keras.regularizers, "I": keras.initializers,
             "C": keras.constraints, "ResidualWrapper": ResidualWrapper}


def main():
    recorded = {}
    for name, expression, build in CASES:
        layer = make(expression, build, NAMESPACE)
        recorded[name] = json.loads(json.dumps(keras.layers.serialize(layer)))
    path = os.path.join(os.path.dirname(__file__), "tf_keras_configs.json")
    with open(path, "w") as f:
        json.dump(recorded, f, indent=1, sort_keys=False)
        f.write("\n")
    print(f"wrote {len(recorded)} configs to {path}")


if __name__ == "__main__":
    main()
