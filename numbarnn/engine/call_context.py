"""The per-thread state of layer calls: the name scope that prefixes new weights'
names, and whether a layer call (its ``training`` mode) or a shape probe is running.

Kept apart from the Layer class so that Variable (which takes the current scope for
its name) and the backend (which reads the call's ``training``) need no Layer.
"""
import contextlib
import threading

__all__ = ["state", "name_scope", "scope_stack", "current_scope", "current_training"]

# Fields set by Layer.__call__ and its probes: stack (the name scopes entered),
# in_call, training, probing.
state = threading.local()


@contextlib.contextmanager
def name_scope(name):
    """Prefix the names of weights created inside the block with ``name/`` (nothing
    for ``name=None``)."""
    if name is None:
        yield
        return
    stack = scope_stack()
    stack.append(name)
    try:
        yield
    finally:
        stack.pop()


def scope_stack():
    """This thread's list of entered name scopes (Layer.__call__ pushes its own by
    hand: a context manager costs more than the rest of a call's bookkeeping)."""
    stack = getattr(state, "stack", None)
    if stack is None:
        stack = state.stack = []
    return stack


def current_training():
    """The ``training`` flag of the layer call running in this thread (None outside
    one, or where the call left it unset)."""
    return getattr(state, "training", None)


def current_scope():
    """The current name scope, ``outer/inner`` (empty at the top level)."""
    stack = getattr(state, "stack", [])
    if "" in stack:  # tf.name_scope(""), a layer named "": back to the top level
        stack = stack[len(stack) - stack[::-1].index(""):]
    return "/".join(stack)
