"""``set_random_seed``: one seed for every draw not given one (tf-keras
``utils.set_random_seed``): Python's and numpy's global generators, and the seeds of
the unseeded initializers and dropout layers made after it."""
import random
import threading

import numpy as np

__all__ = ["set_random_seed", "seed_for_unseeded"]

_generator = [None]  # the random.Random set_random_seed made, or None
_lock = threading.Lock()


def set_random_seed(seed):
    """Seed Python's ``random``, numpy's global generator and numbarnn's own draws,
    so that a program's weights and dropout masks repeat from run to run (as tf-keras's
    ``utils.set_random_seed``; the numbers are not TensorFlow's).

    Parameters
    ----------
    seed : int

    Raises
    ------
    ValueError
        If ``seed`` is not an integer (tf-keras's message).
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError("Expected `seed` argument to be an integer. Received: "
                         f"seed={seed} (of type {type(seed)})")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    with _lock:
        _generator[0] = random.Random(int(seed))


def seed_for_unseeded():
    """The seed an object made without one takes: the next from the generator
    :func:`set_random_seed` made, or None (fresh entropy) when it was never called."""
    with _lock:
        generator = _generator[0]
        return None if generator is None else generator.randint(1, 10**9)
