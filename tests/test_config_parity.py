"""Configs, key by key and in tf-keras's key order, against tf-keras's own.

tests/data/tf_keras_configs.json is written by tests/data/make_tf_keras_configs.py
(tf-keras 2.21) from the constructions in tests/data/config_cases.py.
"""
import json
import os
import sys

import pytest

import numbarnn as nr

DATA = os.path.join(os.path.dirname(__file__), "data")
sys.path.insert(0, DATA)
from config_cases import CASES, make  # noqa: E402

with open(os.path.join(DATA, "tf_keras_configs.json")) as _f:
    RECORDED = json.load(_f)

NAMESPACE = {"L": nr.layers, "R": nr.regularizers, "I": nr.initializers,
             "C": nr.constraints, "ResidualWrapper": nr.ResidualWrapper}


def key_paths(tree, prefix=""):
    """Every key path of a nested config, in order (so key order is compared too)."""
    out = []
    if isinstance(tree, dict):
        for k, v in tree.items():
            out.append(prefix + "/" + k)
            out += key_paths(v, prefix + "/" + k)
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out += key_paths(v, f"{prefix}[{i}]")
    return out


@pytest.mark.parametrize("name,expression,build", CASES, ids=[c[0] for c in CASES])
def test_serialized_config_equals_tf_keras(name, expression, build):
    ours = json.loads(json.dumps(nr.layers.serialize(make(expression, build, NAMESPACE))))
    assert ours == RECORDED[name]
    assert key_paths(ours) == key_paths(RECORDED[name])


@pytest.mark.parametrize("name,expression,build", CASES, ids=[c[0] for c in CASES])
def test_tf_keras_config_loads_and_writes_back_the_same(name, expression, build):
    recorded = RECORDED[name]
    layer = nr.layers.deserialize(json.loads(json.dumps(recorded)))
    again = json.loads(json.dumps(nr.layers.serialize(layer)))
    # build_config is written only once a layer is built, and built-in layers build on
    # their first call (as in tf-keras, whose keras.layers.deserialize drops theirs)
    assert again == without_build_configs(recorded)


def without_build_configs(tree):
    if isinstance(tree, dict):
        return {k: without_build_configs(v) for k, v in tree.items() if k != "build_config"}
    if isinstance(tree, list):
        return [without_build_configs(v) for v in tree]
    return tree
