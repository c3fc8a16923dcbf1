"""The array functions custom cells and small layers use (tf-keras ``backend``), on numpy.

The functions take numpy arrays, :class:`numbarnn.Variable` objects, numpy scalars and
Python values (numbers, nested lists) and return numpy arrays (or numpy scalars), with
the results, dtypes and argument checks of ``tf_keras.backend`` 2.x:

* A Python value becomes an array as ``tf.convert_to_tensor`` makes a tensor of it:
  bools give ``bool``, integers ``int32`` (``int64`` when one does not fit), floats
  ``float32`` (never ``floatx()``); arrays, numpy scalars and variables keep their dtype.
* Where two operands meet (:func:`pow`, the comparisons, :func:`switch`,
  :func:`bias_add`), a Python operand takes the dtype of the array operand, and fails
  as TensorFlow fails (``TypeError``) where that would lose its value: a float into an
  integer dtype, a number into ``bool``. Two arrays of different dtypes, which tensors
  refuse, meet as TensorFlow meets a numpy array: the second is cast to the dtype of
  the first (a variable's dtype wins over a plain array's, as a ``tf.Variable``'s
  wins over a numpy array's).
* ``axis=None`` reduces over all axes; a reduction's ``axis`` may be an integer or a
  list or tuple of them.
* Floating-point arithmetic is IEEE and silent, as TensorFlow's: ``log(0)`` is
  ``-inf``, overflow gives ``inf``, with no numpy warning.
* The random functions draw from numpy's generator (``np.random.default_rng``). As a
  seeded TensorFlow op in eager mode, the calls with one ``seed`` draw a sequence:
  new values at each call, the same sequence in every process (but not TensorFlow's
  values). As in tf-keras, ``seed=None`` draws the seed from numpy's global generator
  (``np.random.randint(10e6)``), so ``np.random.seed`` makes numbarnn's draws
  repeatable (it does not make tf-keras's so: TensorFlow adds op seeds of its own).
* :func:`zeros`, :func:`ones` and :func:`eye` return :class:`numbarnn.Variable`
  objects (tf-keras returns variables), :func:`shape` an int32 array (``tf.shape``).
"""
from ..kernels.python_loop import rnn
from .config import (cast_to_floatx, clear_session, epsilon, floatx, get_uid,
                     image_data_format, learning_phase, set_epsilon, set_floatx,
                     set_image_data_format)
from .creation import (arange, constant, eye, ones, ones_like, random_bernoulli,
                       random_binomial, random_normal, random_normal_variable,
                       random_uniform, random_uniform_variable, truncated_normal, zeros,
                       zeros_like)
from .variables import batch_get_value, batch_set_value, get_value, set_value, variable
from .shapes import (batch_flatten, cast, concatenate, count_params, dtype, expand_dims,
                     flatten, gather, int_shape, ndim, permute_dimensions, repeat,
                     repeat_elements, reshape, reverse, shape, squeeze, stack, tile,
                     transpose)
from .reductions import (all, any, argmax, argmin, cumprod, cumsum, max, mean, min, prod,
                         std, sum, var)
from .elementwise import (abs, batch_dot, bias_add, clip, cos, dot, elu, equal, exp,
                          greater, greater_equal, hard_sigmoid, l2_normalize, less,
                          less_equal, log, maximum, minimum, not_equal, pow, relu, round,
                          sigmoid, sign, sin, softmax, softplus, softsign, sqrt, square,
                          tanh)
from .control import dropout, in_test_phase, in_train_phase, stop_gradient, switch
from .tensors import eval, is_keras_tensor, is_sparse, print_tensor, to_dense

__all__ = ["dot", "zeros", "ones", "zeros_like", "ones_like", "sigmoid", "tanh", "relu",
           "concatenate", "stack", "sum", "mean", "square", "sqrt", "exp", "abs",
           "maximum", "minimum", "clip", "reshape", "transpose", "expand_dims", "shape",
           "int_shape", "cast", "floatx", "epsilon", "rnn", "batch_dot", "softmax",
           "hard_sigmoid", "dtype", "get_value", "set_value", "batch_get_value",
           "batch_set_value",
           # configuration
           "set_epsilon", "set_floatx", "image_data_format", "set_image_data_format",
           "cast_to_floatx",
           "learning_phase", "clear_session",
           # creation
           "constant", "variable", "eye", "arange", "random_uniform", "random_normal",
           "truncated_normal", "random_bernoulli", "random_binomial",
           "random_uniform_variable", "random_normal_variable",
           # shapes
           "ndim", "count_params", "squeeze", "flatten", "batch_flatten", "tile",
           "repeat", "repeat_elements", "permute_dimensions", "reverse", "gather",
           # reductions
           "max", "min", "prod", "std", "var", "all", "any", "argmax", "argmin",
           "cumsum", "cumprod",
           # element-wise
           "log", "pow", "sign", "round", "sin", "cos", "elu", "softplus", "softsign",
           "l2_normalize", "bias_add", "equal", "not_equal", "greater", "greater_equal",
           "less", "less_equal",
           # control flow and training
           "switch", "in_train_phase", "in_test_phase", "dropout", "stop_gradient",
           # values
           "eval", "is_keras_tensor", "is_sparse", "to_dense", "print_tensor", "get_uid"]
